/**
 * Hibernatable sockets in workerd: a session across the object's death, and presence (online, offline) with a
 * live socket. (The Node end-to-end tests cover the same against wrangler dev with `ws` clients.)
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { ADMIN, agentView, enrollAgent, open, type TestAgent } from "./fleet-agent.js";

const record = (agent: TestAgent, seq: number) =>
  recordToWire(sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, agent.secretKey));

const stub = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

describe("sockets in workerd", () => {
  it("a session survives the object's death: resume point and log come back from SQLite", async () => {
    const agent = await enrollAgent("socket-evict");
    const first = await open(agent, 1);
    first.send({ v: 1, type: "records", lamport: 2, records: [0, 1, 2].map((seq) => record(agent, seq)) });
    const ack = await first.next("ack", (a) => a.nextSeq === 3);
    // After the agent's two key entries (enrolled, approved).
    expect(ack.acks.map((a) => a.index)).toEqual([2, 3, 4]);

    await abortAllDurableObjects();

    const second = await open(agent, 10);
    expect(second.messages.find((m) => m.type === "welcome")).toMatchObject({ resume: { nextSeq: 3, lastAckedSeq: 2 } });
    second.send({ v: 1, type: "records", lamport: 11, records: [record(agent, 2), record(agent, 3)] });
    const again = await second.next("ack", (a) => a.nextSeq === 4);
    expect(again.acks).toEqual([
      { seq: 2, index: 4 },
      { seq: 3, index: 5 },
    ]);
    second.ws.close(1000, "done");
  });

  it("a silent agent on an open socket stays online and leaves the field; offline comes only with no socket for offlineAfterMs", async () => {
    const agent = await enrollAgent("socket-sweep");
    // Short times, waited for real: the object keeps hot columns in memory, so backdating SQLite
    // underneath it would not be what it sees.
    const patched = await exports.default.fetch(`http://edge.test/v1/fleet/config?fleet=${agent.fleet}`, {
      method: "PATCH",
      headers: ADMIN,
      body: JSON.stringify({ peerAgeMs: 500, offlineAfterMs: 3000 }),
    });
    expect(patched.status).toBe(200);
    const session = await open(agent, 1);
    session.send({ v: 1, type: "summary", lamport: 2, t: Date.now(), theta: 0.5, omega: 0, coherence: 0.9, tokenHz: 20 });
    await session.next("field", (f) => f.n === 1);
    const mark = session.messages.length;
    const events = () =>
      runInDurableObject(stub(agent.fleet), (_i, state) =>
        state.storage.sql.exec<{ kind: string; payload: string }>(`SELECT kind, payload FROM outbox WHERE kind IN ('agent.online', 'agent.offline') ORDER BY id`).toArray(),
      );
    // Silent past peerAgeMs (and offlineAfterMs) on an open socket: its summary is stale (out of the field), but it is not offline.
    await new Promise((r) => setTimeout(r, 3200));
    await runInDurableObject(stub(agent.fleet), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stub(agent.fleet))).toBe(true);
    await session.next("field", (f) => f.n === 0, mark);
    expect(await agentView(agent)).toMatchObject({ online: true, connected: true, inField: false });
    expect((await events()).map((e) => e.kind)).toEqual(["agent.online"]);

    // The socket closes: disconnected at once, still online within offlineAfterMs.
    session.ws.close(1000, "done");
    for (let waited = 0; waited < 5000 && (await agentView(agent)).connected !== false; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(await agentView(agent)).toMatchObject({ online: true, connected: false, inField: false });
    // A reconnect within that time emits no offline/online pair.
    const again = await open(agent, 3);
    const closedAt = Date.now();
    again.ws.close(1000, "done");
    for (let waited = 0; waited < 5000 && (await agentView(agent)).connected !== false; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect((await events()).map((e) => e.kind)).toEqual(["agent.online"]);

    // No socket and no message for offlineAfterMs: the alarm marks it offline.
    await new Promise((r) => setTimeout(r, Math.max(0, closedAt + 3300 - Date.now())));
    await runInDurableObject(stub(agent.fleet), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stub(agent.fleet))).toBe(true);
    expect(await agentView(agent)).toMatchObject({ online: false, connected: false });
    const offline = (await events()).filter((e) => e.kind === "agent.offline").map((e) => JSON.parse(e.payload));
    expect(offline).toEqual([{ agentId: agent.agentId, reason: "silent", lastSeenAt: expect.any(String) }]);
    // Coming back is an offline → online transition.
    const back = await open(agent, 4);
    expect(await agentView(agent)).toMatchObject({ online: true, connected: true });
    expect((await events()).map((e) => e.kind)).toEqual(["agent.online", "agent.offline", "agent.online"]);
    back.ws.close(1000, "done");
  }, 20_000);
});
