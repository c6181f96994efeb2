/**
 * What the edge fuzzers share inside workerd: a fresh fleet with enrolled agents, an agent's socket
 * session that records every frame the edge sends, a direct look at the Fleet object's SQLite, and
 * the audit of the global log exactly as an outside auditor would do it (served entries of every
 * type, the signed checkpoint over all of them).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { MemoryNodeStore, MerkleTree, decodeLogEntry, verifyRecordSignature } from "../../shared/log/index.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes, bytesToBase64Url, decodeEdgeMessage, signConnectToken, type EdgeMessage } from "../../shared/protocol/index.js";

export const ADMIN_TOKEN = "test-admin-token";
export const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
export const EDGE = "http://edge.test";

export interface EnrolledAgent {
  readonly agentId: string;
  readonly audience: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly fleet: string;
}

let fleetCounter = 0;
/** A fleet name no other case used (each case gets its own Durable Object, so runs are independent). */
export function freshFleet(prefix: string): string {
  fleetCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${fleetCounter}`;
}

export async function enrollAgent(fleet: string, name = "fuzz"): Promise<EnrolledAgent> {
  const tokenRes = await exports.default.fetch(`${EDGE}/v1/enrollment-tokens?fleet=${fleet}`, { method: "POST", headers: ADMIN, body: "{}" });
  if (tokenRes.status !== 201) throw new Error(`enrollment token: ${tokenRes.status} ${await tokenRes.text()}`);
  const { token } = (await tokenRes.json()) as { token: string };
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  const res = await exports.default.fetch(`${EDGE}/v1/enroll?fleet=${fleet}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: bytesToBase64Url(publicKey) }, name }),
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { agentId: string; audience: string };
  return { agentId: body.agentId, audience: body.audience, secretKey, publicKey, fleet };
}

/** One frame the edge sent, raw and decoded by the project's edge-message decoder. */
export interface Received {
  readonly raw: string | ArrayBuffer;
  readonly decoded: ReturnType<typeof decodeEdgeMessage>;
}

/** An agent's WebSocket to the edge: sends frames, keeps every frame received. */
export class Session {
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const raw = event.data as string | ArrayBuffer;
      this.received.push({ raw, decoded: decodeEdgeMessage(raw) });
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  send(frame: string | Uint8Array): void {
    this.ws.send(frame);
  }

  /** Messages received from `from` on that decoded. */
  messages(from = 0): EdgeMessage[] {
    return this.received.slice(from).flatMap((r) => (r.decoded.ok ? [r.decoded.message] : []));
  }

  /** Waits (polling, generous limit) until a message matching `where` arrives at or after `from`, or the socket closes. */
  async until(where: (m: EdgeMessage) => boolean, from = 0, limitMs = 5_000): Promise<EdgeMessage | undefined> {
    for (let waited = 0; waited <= limitMs; waited += 5) {
      const bad = this.received.slice(from).find((r) => !r.decoded.ok);
      if (bad !== undefined && !bad.decoded.ok) throw new Error(`the edge sent a frame the protocol does not allow (${bad.decoded.message}): ${String(bad.raw).slice(0, 300)}`);
      const found = this.messages(from).find(where);
      if (found !== undefined) return found;
      if (this.closed !== undefined) return undefined;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`nothing matched in ${limitMs} ms; got ${this.messages(from).map((m) => (m.type === "error" ? `error(${m.code}, ref ${m.ref})` : m.type)).join(",")}`);
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

/** Opens an authenticated socket (a fresh single-use JWT) and sends a valid hello. */
export async function connect(agent: EnrolledAgent, lamport = 1): Promise<Session> {
  const jwt = await signConnectToken({ secretKey: agent.secretKey, agentId: agent.agentId, audience: agent.audience });
  const res = await exports.default.fetch(`${EDGE}/v1/connect?fleet=${agent.fleet}`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${jwt}` } });
  if (res.status !== 101 || res.webSocket === null) throw new Error(`connect: ${res.status} ${await res.text()}`);
  const session = new Session(res.webSocket);
  session.send(JSON.stringify({ v: 1, type: "hello", agentId: agent.agentId, lamport }));
  const welcome = await session.until((m) => m.type === "welcome");
  if (welcome === undefined) throw new Error("no welcome");
  return session;
}

export const fleetStub = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

export type Row = Record<string, SqlStorageValue>;

/** The agent's row, straight from the Fleet object's SQLite. */
export async function agentRow(fleet: string, agentId: string): Promise<Row | undefined> {
  return runInDurableObject(fleetStub(fleet), (_instance, state) => state.storage.sql.exec<Row>(`SELECT * FROM agents WHERE id = ?`, agentId).toArray()[0]);
}

export interface StoredEntry {
  readonly idx: number;
  readonly agentId: string;
  readonly seq: number;
  readonly data: Uint8Array;
}

/** Every entry of the global log, straight from SQLite. */
export async function storedEntries(fleet: string): Promise<StoredEntry[]> {
  return runInDurableObject(fleetStub(fleet), (_instance, state) =>
    state.storage.sql
      .exec<{ idx: number; agent_id: string; seq: number; data: ArrayBuffer }>(`SELECT idx, agent_id, seq, data FROM log_entries ORDER BY idx`)
      .toArray()
      .map((r) => ({ idx: r.idx, agentId: r.agent_id, seq: r.seq, data: new Uint8Array(r.data) })),
  );
}

/** The fleet's Lamport clock as stored. */
export async function fleetLamport(fleet: string): Promise<number> {
  return runInDurableObject(fleetStub(fleet), (_instance, state) => Number(state.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'lamport'`).toArray()[0]?.value ?? "0"));
}

/**
 * Audits the global log through the public routes only, as an outsider would: reads every entry,
 * checks each decodes and is signed by its agent's enrolled key (records) or carries it (key
 * entries), recomputes the root, opens the latest checkpoint with the pinned key — once it covers
 * every entry (checkpoints follow appends within a second) — and checks it against the recomputed
 * root. Returns the entries' leaf bytes (all types). Throws on any discrepancy.
 */
export async function auditLog(fleet: string, keys: ReadonlyMap<string, Uint8Array>): Promise<Uint8Array[]> {
  const verifier = parseVerifierKey((await (await exports.default.fetch(`${EDGE}/v1/log/key?fleet=${fleet}`)).text()).trim());
  const leaves: Uint8Array[] = [];
  for (let start = 0; ; start += 256) {
    const res = await exports.default.fetch(`${EDGE}/v1/log/entries?fleet=${fleet}&start=${start}&end=${start + 256}`);
    if (res.status !== 200) throw new Error(`entries: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { size: number; entries: { index: number; type: string; agentId: string; seq?: number; leaf: string }[] };
    for (const entry of page.entries) {
      if (entry.index !== leaves.length) throw new Error(`entry index ${entry.index}, expected ${leaves.length}`);
      const leaf = base64ToBytes(entry.leaf);
      const decoded = decodeLogEntry(leaf);
      if (decoded.type !== entry.type) throw new Error(`entry ${entry.index} is served as ${entry.type} but its bytes are a ${decoded.type}`);
      const agentId = decoded.type === "record" ? decoded.record.agentId : decoded.agentId;
      const key = keys.get(agentId);
      if (key === undefined || agentId !== entry.agentId) throw new Error(`entry ${entry.index} is not a known agent's`);
      if (decoded.type === "record") {
        if (decoded.record.seq !== entry.seq) throw new Error(`entry ${entry.index} is served with seq ${entry.seq}, its bytes say ${decoded.record.seq}`);
        if (!verifyRecordSignature(decoded.record, key)) throw new Error(`entry ${entry.index} is not signed by ${agentId}`);
      } else if (decoded.type === "key" && !bytesEqual(decoded.publicKey, key)) {
        throw new Error(`key entry ${entry.index} does not carry ${agentId}'s enrolled key`);
      }
      leaves.push(leaf);
    }
    if (page.entries.length < 256) break;
  }
  const tree = MerkleTree.open(new MemoryNodeStore());
  tree.appendMany(leaves);
  let checkpoint = openCheckpoint(await checkpointNote(fleet), [verifier]).checkpoint;
  for (let waited = 0; checkpoint.size < leaves.length && waited < 5000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    checkpoint = openCheckpoint(await checkpointNote(fleet), [verifier]).checkpoint;
  }
  if (checkpoint.size !== leaves.length) throw new Error(`checkpoint size ${checkpoint.size}, but ${leaves.length} entries are served`);
  if (!bytesEqual(checkpoint.root, tree.root(checkpoint.size))) throw new Error(`checkpoint root does not match entries 0..${checkpoint.size}`);
  // Each agent's records are its seq 0, 1, 2, … in log order (never twice, never a gap).
  const nextSeq = new Map<string, number>();
  for (const leaf of leaves) {
    const entry = decodeLogEntry(leaf);
    if (entry.type !== "record") continue;
    const record = entry.record;
    const expected = nextSeq.get(record.agentId) ?? 0;
    if (record.seq !== expected) throw new Error(`agent ${record.agentId}: seq ${record.seq} in the log where ${expected} was due`);
    nextSeq.set(record.agentId, expected + 1);
  }
  return leaves;
}

async function checkpointNote(fleet: string): Promise<string> {
  return (await exports.default.fetch(`${EDGE}/v1/log/checkpoint?fleet=${fleet}`)).text();
}

/** The sizes of the fleet's signed checkpoints, straight from SQLite. */
export async function signedSizes(fleet: string): Promise<number[]> {
  return runInDurableObject(fleetStub(fleet), (_instance, state) =>
    state.storage.sql
      .exec<{ size: number }>(`SELECT size FROM checkpoints ORDER BY size`)
      .toArray()
      .map((r) => r.size),
  );
}
