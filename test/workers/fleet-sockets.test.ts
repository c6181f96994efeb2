/**
 * Hibernatable sockets in workerd: a session across the object's death, and the alarm sweep with a
 * live socket. (The Node end-to-end tests cover the same against wrangler dev with `ws` clients.)
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { agentView, enrollAgent, open, type TestAgent } from "./fleet-agent.js";

const record = (agent: TestAgent, seq: number) =>
  recordToWire(sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, agent.secretKey));

const stub = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

describe("sockets in workerd", () => {
  it("a session survives the object's death: resume point and log come back from SQLite", async () => {
    const agent = await enrollAgent("socket-evict");
    const first = await open(agent, 1);
    first.send({ v: 1, type: "records", lamport: 2, records: [0, 1, 2].map((seq) => record(agent, seq)) });
    const ack = await first.next("ack", (a) => a.nextSeq === 3);
    expect(ack.acks.map((a) => a.index)).toEqual([0, 1, 2]);

    await abortAllDurableObjects();

    const second = await open(agent, 10);
    expect(second.messages.find((m) => m.type === "welcome")).toMatchObject({ resume: { nextSeq: 3, lastAckedSeq: 2 } });
    second.send({ v: 1, type: "records", lamport: 11, records: [record(agent, 2), record(agent, 3)] });
    const again = await second.next("ack", (a) => a.nextSeq === 4);
    expect(again.acks).toEqual([
      { seq: 2, index: 2 },
      { seq: 3, index: 3 },
    ]);
    second.ws.close(1000, "done");
  });

  it("the alarm sweep marks a silent agent offline and rebroadcasts the field without it", async () => {
    const agent = await enrollAgent("socket-sweep");
    const session = await open(agent, 1);
    session.send({ v: 1, type: "summary", lamport: 2, t: Date.now(), theta: 0.5, omega: 0, coherence: 0.9, tokenHz: 20 });
    await session.next("field", (f) => f.n === 1);
    const mark = session.messages.length;
    await runInDurableObject(stub(agent.fleet), async (_i, state) => {
      state.storage.sql.exec(`UPDATE agents SET last_seen_at = ? WHERE id = ?`, Date.now() - 60_000, agent.agentId);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub(agent.fleet))).toBe(true);
    await session.next("field", (f) => f.n === 0, mark);
    const view = await agentView(agent);
    expect(view).toMatchObject({ online: false, connected: true, inField: false });
    const outbox = await runInDurableObject(stub(agent.fleet), (_i, state) =>
      state.storage.sql.exec<{ kind: string; payload: string }>(`SELECT kind, payload FROM outbox WHERE kind = 'agent.offline'`).toArray(),
    );
    expect(outbox.map((r) => JSON.parse(r.payload))).toContainEqual({ agentId: agent.agentId, reason: "silent" });
    // Speaking again brings it back.
    session.send({ v: 1, type: "ping", nonce: "back" });
    await session.next("pong");
    const back = await agentView(agent);
    expect(back).toMatchObject({ online: true });
    session.ws.close(1000, "done");
  });
});
