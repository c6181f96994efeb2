/**
 * Hibernatable sockets in workerd: a session across the object's death, and the alarm sweep with a
 * live socket. (The Node end-to-end tests cover the same against wrangler dev with `ws` clients.)
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { bytesToBase64Url, decodeEdgeMessage, recordToWire, type EdgeMessage } from "../../shared/protocol/index.js";

const ADMIN = { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" };

async function enrollAgent(fleet: string) {
  const token = (await (await exports.default.fetch(`http://edge.test/v1/enrollment-tokens?fleet=${fleet}`, { method: "POST", headers: ADMIN, body: "{}" })).json()) as { token: string };
  const secretKey = ed25519.utils.randomSecretKey();
  const x = bytesToBase64Url(ed25519.getPublicKey(secretKey));
  const res = await exports.default.fetch(`http://edge.test/v1/enroll?fleet=${fleet}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token.token, publicKey: { kty: "OKP", crv: "Ed25519", x }, name: "w" }),
  });
  const body = (await res.json()) as { agentId: string; audience: string };
  return { ...body, secretKey, x, fleet };
}

type Agent = Awaited<ReturnType<typeof enrollAgent>>;

class Session {
  readonly messages: EdgeMessage[] = [];
  closed: number | undefined;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const decoded = decodeEdgeMessage(String(event.data));
      if (decoded.ok) this.messages.push(decoded.message);
    });
    ws.addEventListener("close", (event) => {
      this.closed = event.code;
    });
  }
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
  async next<T extends EdgeMessage["type"]>(type: T, where: (m: Extract<EdgeMessage, { type: T }>) => boolean = () => true, from = 0): Promise<Extract<EdgeMessage, { type: T }>> {
    for (let waited = 0; waited < 5000; waited += 20) {
      const found = this.messages.slice(from).find((m) => m.type === type && where(m as Extract<EdgeMessage, { type: T }>));
      if (found) return found as Extract<EdgeMessage, { type: T }>;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${type}; got ${this.messages.map((m) => m.type).join(",")}`);
  }
}

async function open(agent: Agent, lamport: number): Promise<Session> {
  const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: agent.x, d: bytesToBase64Url(agent.secretKey) }, "EdDSA");
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", typ: "agent+jwt", kid: agent.agentId })
    .setIssuer(agent.agentId)
    .setSubject(agent.agentId)
    .setAudience(agent.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key);
  const res = await exports.default.fetch(`http://edge.test/v1/connect?fleet=${agent.fleet}`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${jwt}` } });
  expect(res.status).toBe(101);
  const session = new Session(res.webSocket!);
  session.send({ v: 1, type: "hello", agentId: agent.agentId, lamport });
  await session.next("welcome");
  return session;
}

const record = (agent: Agent, seq: number) =>
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
    const view = (await (await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}?fleet=${agent.fleet}`, { headers: ADMIN })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ online: false, connected: true, inField: false });
    const outbox = await runInDurableObject(stub(agent.fleet), (_i, state) =>
      state.storage.sql.exec<{ kind: string; payload: string }>(`SELECT kind, payload FROM outbox WHERE kind = 'agent.offline'`).toArray(),
    );
    expect(outbox.map((r) => JSON.parse(r.payload))).toContainEqual({ agentId: agent.agentId, reason: "silent" });
    // Speaking again brings it back.
    session.send({ v: 1, type: "ping", nonce: "back" });
    await session.next("pong");
    const back = (await (await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}?fleet=${agent.fleet}`, { headers: ADMIN })).json()) as Record<string, unknown>;
    expect(back).toMatchObject({ online: true });
    session.ws.close(1000, "done");
  });
});
