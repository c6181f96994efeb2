/**
 * Replaced sockets in workerd: a replaced socket is never served (its next message closes it with
 * 4000, unanswered), and the current one closing takes the agent offline even while a replaced one
 * waits for its close. (Aborting the object here breaks its sockets with 1006, so the generation's
 * survival across eviction rests on it living in the attachment, like the rest of the socket state.)
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { exports } from "cloudflare:workers";
import { SignJWT, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { bytesToBase64Url, decodeEdgeMessage, type EdgeMessage } from "../../shared/protocol/index.js";

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
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const decoded = decodeEdgeMessage(String(event.data));
      if (decoded.ok) this.messages.push(decoded.message);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
  async until(done: () => boolean, what: string): Promise<void> {
    for (let waited = 0; waited < 5000; waited += 20) {
      if (done()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${what}; got ${this.messages.map((m) => m.type).join(",")}, closed ${JSON.stringify(this.closed)}`);
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
  await session.until(() => session.messages.some((m) => m.type === "welcome"), "no welcome");
  return session;
}

async function agentView(agent: Agent): Promise<Record<string, unknown>> {
  return (await (await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}?fleet=${agent.fleet}`, { headers: ADMIN })).json()) as Record<string, unknown>;
}

describe("replaced sockets in workerd", () => {
  it("a replaced socket's message closes it with 4000, unanswered; the current one works", async () => {
    const agent = await enrollAgent("replaced-message");
    const first = await open(agent, 1);
    const second = await open(agent, 2);
    const mark = first.messages.length;
    if (first.closed === undefined) {
      first.send({ v: 1, type: "ping", nonce: "old" });
      await first.until(() => first.closed !== undefined, "the replaced socket stayed open");
    }
    expect(first.closed).toEqual({ code: 4000, reason: "replaced by a newer connection" });
    expect(first.messages.slice(mark).filter((m) => m.type === "pong")).toEqual([]);
    second.send({ v: 1, type: "ping", nonce: "new" });
    await second.until(() => second.messages.some((m) => m.type === "pong" && m.nonce === "new"), "no pong on the current socket");
    expect(await agentView(agent)).toMatchObject({ connected: true, online: true });
    second.ws.close(1000, "done");
  });

  it("the current socket closing takes the agent offline even while a replaced one is still open", async () => {
    const agent = await enrollAgent("replaced-offline");
    const first = await open(agent, 1);
    const second = await open(agent, 2);
    second.ws.close(1000, "bye");
    await second.until(() => second.closed !== undefined, "no close");
    // The replaced socket may still be open (its 5 s grace); it does not keep the agent connected.
    for (let waited = 0; waited < 5000 && (await agentView(agent)).connected !== false; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(await agentView(agent)).toMatchObject({ connected: false, online: false });
    first.ws.close(1000, "done");
  });
});
