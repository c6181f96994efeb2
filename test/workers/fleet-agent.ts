/**
 * An agent as the workerd tests drive it: enrolled through the Worker's routes with a fresh Ed25519
 * key, connected with a signed JWT, and a socket session that keeps every frame the edge sends,
 * decoded with the protocol's own schema (frames the schema refuses are kept apart as `invalid`).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { exports } from "cloudflare:workers";
import { SignJWT, importJWK } from "jose";
import { expect } from "vitest";
import { bytesToBase64Url, decodeEdgeMessage, type EdgeMessage } from "../../shared/protocol/index.js";

export const ADMIN = { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" };

export interface TestAgent {
  readonly agentId: string;
  readonly audience: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The public key, base64url (the JWK's x). */
  readonly x: string;
  readonly fleet: string;
}

/** Enrolls with a fresh key; `requireApproval` leaves the agent pending until an operator approves it. */
export async function enrollAgent(fleet: string, name = "w", options: { requireApproval?: boolean } = {}): Promise<TestAgent> {
  const tokenRes = await exports.default.fetch(`http://edge.test/v1/enrollment-tokens?fleet=${fleet}`, { method: "POST", headers: ADMIN, body: JSON.stringify(options) });
  if (tokenRes.status !== 201) throw new Error(`enrollment token: ${tokenRes.status} ${await tokenRes.text()}`);
  const { token } = (await tokenRes.json()) as { token: string };
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  const x = bytesToBase64Url(publicKey);
  const res = await exports.default.fetch(`http://edge.test/v1/enroll?fleet=${fleet}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x }, name }),
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { agentId: string; audience: string };
  return { agentId: body.agentId, audience: body.audience, secretKey, publicKey, x, fleet };
}

type Of<T extends EdgeMessage["type"]> = Extract<EdgeMessage, { type: T }>;

export class Session {
  readonly messages: EdgeMessage[] = [];
  readonly invalid: string[] = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const decoded = decodeEdgeMessage(String(event.data));
      if (decoded.ok) this.messages.push(decoded.message);
      else this.invalid.push(`${decoded.message}: ${String(event.data).slice(0, 200)}`);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
  /** Where the next message will be, for `next`/`of` from now on. */
  mark(): number {
    return this.messages.length;
  }
  of<T extends EdgeMessage["type"]>(type: T, from = 0): Of<T>[] {
    return this.messages.slice(from).filter((m): m is Of<T> => m.type === type);
  }
  async next<T extends EdgeMessage["type"]>(type: T, where: (m: Of<T>) => boolean = () => true, from = 0): Promise<Of<T>> {
    let found: Of<T> | undefined;
    await this.until(() => (found = this.of(type, from).find(where)) !== undefined, `no ${type}`);
    return found!;
  }
  async until(done: () => boolean, what: string): Promise<void> {
    for (let waited = 0; waited < 5000; waited += 20) {
      if (done()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${what}; got ${this.messages.map((m) => m.type).join(",")}, closed ${JSON.stringify(this.closed)}; invalid frames: ${this.invalid.join(" | ")}`);
  }
}

/** Upgrades with a fresh single-use JWT signed by the agent's key. */
export async function connect(agent: TestAgent): Promise<Session> {
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
  return new Session(res.webSocket!);
}

/** Connects and says hello; resolves once welcomed. */
export async function open(agent: TestAgent, lamport: number): Promise<Session> {
  const session = await connect(agent);
  session.send({ v: 1, type: "hello", agentId: agent.agentId, lamport });
  await session.next("welcome");
  return session;
}

/** The admin view of the agent (GET /v1/agents/:id). */
export async function agentView(agent: TestAgent): Promise<Record<string, any>> {
  return (await (await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}?fleet=${agent.fleet}`, { headers: ADMIN })).json()) as Record<string, any>;
}
