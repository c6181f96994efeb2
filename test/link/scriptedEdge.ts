/**
 * A scripted edge for the link's tests: a real WebSocket server (the `ws` package) that checks the
 * connect JWT like the Worker does and then runs a per-connection script, and setup() that starts
 * the real agent runtime with the real link pointed at it.
 */
import { createServer, type IncomingMessage, type RequestListener } from "node:http";
import type { Socket } from "node:net";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { tempDir } from "./tempDir.js";
import WebSocket, { WebSocketServer } from "ws";
import { resolveAgentConfig } from "../../agent/config/agentConfig.js";
import { EdgeLinkClient } from "../../agent/link/edgeLinkClient.js";
import { saveEdgeIdentity } from "../../agent/link/edgeIdentity.js";
import { startAgent, type AgentHandle } from "../../agent/runtime/agent.js";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { DEFAULT_FLEET_CONFIG } from "../../shared/protocol/config.js";

const AUDIENCE = "urn:becomingone:fleet:default";

export interface Conn {
  readonly ws: WebSocket;
  /** The server side's TCP socket (to stop reading from it). */
  readonly socket: Socket;
  readonly received: Record<string, unknown>[];
  readonly summaryAt: number[];
  closeCode?: number;
}

export interface HostileEdge {
  readonly url: string;
  readonly conns: Conn[];
  readonly jtis: string[];
  readonly lifetimes: number[];
  close(): Promise<void>;
}

/**
 * A ws server on 127.0.0.1:0 that verifies the agent's JWT and then runs `behave` per connection;
 * with `http`, plain HTTP requests on the same port go to it (the edge's proof routes).
 */
export async function hostileEdge(publicKey: import("node:crypto").KeyObject, agentId: string, behave: (conn: Conn, n: number) => void, http?: RequestListener): Promise<HostileEdge> {
  const conns: Conn[] = [];
  const jtis: string[] = [];
  const lifetimes: number[] = [];
  const httpServer = http ? createServer(http) : undefined;
  const server = new WebSocketServer({
    ...(httpServer ? { server: httpServer } : { host: "127.0.0.1", port: 0 }),
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      const token = /^Bearer (.+)$/.exec(info.req.headers.authorization ?? "")?.[1];
      if (!token) return done(false, 401, "no bearer");
      const header = decodeProtectedHeader(token);
      if (header.alg !== "EdDSA" || header.typ !== "agent+jwt" || header.kid !== agentId) return done(false, 401, "bad header");
      jwtVerify(token, publicKey, { audience: AUDIENCE, issuer: agentId, subject: agentId, algorithms: ["EdDSA"], typ: "agent+jwt" }).then(
        ({ payload }) => {
          jtis.push(String(payload.jti));
          lifetimes.push(payload.exp! - payload.iat!);
          done(true);
        },
        () => done(false, 401, "bad jwt"),
      );
    },
  });
  if (httpServer) await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
  else await new Promise<void>((r) => server.once("listening", () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  server.on("connection", (ws, req) => {
    const conn: Conn = { ws, socket: req.socket, received: [], summaryAt: [] };
    conns.push(conn);
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>;
      conn.received.push(msg);
      if (msg.type === "summary") conn.summaryAt.push(Date.now());
    });
    ws.on("close", (code) => (conn.closeCode = code));
    behave(conn, conns.length);
  });
  return {
    url: `ws://127.0.0.1:${port}/v1/connect`,
    conns,
    jtis,
    lifetimes,
    close: () =>
      new Promise<void>((r) => {
        for (const c of server.clients) c.terminate();
        server.close(() => {
          if (!httpServer) return r();
          httpServer.closeAllConnections();
          httpServer.close(() => r());
        });
      }),
  };
}

export const welcome = (agentId: string, nextSeq: number, summaryHz = 4) => ({
  v: 1,
  type: "welcome",
  agentId,
  fleetId: "default",
  resume: { nextSeq, lastAckedSeq: nextSeq > 0 ? nextSeq - 1 : null },
  lamport: 5000,
  serverTime: Date.now(),
  config: { ...DEFAULT_FLEET_CONFIG, summaryHz },
  log: { origin: "hostile.test/fleet/default", verifierKey: null, checkpoint: null },
});

/** Acks every records batch like an honest edge: index = seq. */
export function ackRecords(conn: Conn, from = 0): void {
  let next = from;
  conn.ws.on("message", (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; records?: { seq: number }[] };
    if (msg.type !== "records") return;
    const acks = [];
    for (const r of msg.records!) {
      if (r.seq === next) next++;
      acks.push({ seq: r.seq, index: r.seq });
    }
    conn.ws.send(JSON.stringify({ v: 1, type: "ack", acks, nextSeq: next, lamport: 6000 }));
  });
}

const running: { agent?: AgentHandle; edge?: HostileEdge }[] = [];
/** Stops every agent and edge setup() started (call from afterEach). */
export async function stopAll(): Promise<void> {
  for (const r of running.splice(0)) {
    await r.agent?.stop();
    await r.edge?.close();
  }
}

export async function setup(
  behave: (conn: Conn, n: number) => void,
  linkOptions: { pingIntervalMs?: number; silenceLimitMs?: number; sendBufferLimitBytes?: number; auditIntervalMs?: number } = {},
  http?: RequestListener,
) {
  const dataDir = tempDir("link-hostile-");
  const key = loadOrCreateDeviceKey(dataDir);
  const agentId = agentIdFromPublicKey(key.publicKeyRaw);
  const edge = await hostileEdge(key.publicKey, agentId, behave, http);
  saveEdgeIdentity(dataDir, {
    version: 1,
    agentId,
    fleetId: "default",
    status: "active",
    audience: AUDIENCE,
    connectUrl: edge.url,
    edgeUrl: edge.url.replace("ws://", "http://").replace("/v1/connect", "/"),
    verifierKey: null,
    origin: null,
    enrolledAt: new Date().toISOString(),
  });
  const lines: { level: string; msg: string }[] = [];
  const config = resolveAgentConfig({ flags: { dataDir, hz: 20, api: { enabled: false }, seal: { witnessEverySeconds: 0.1, digestEverySeconds: 1 }, ledger: { fsyncIntervalMs: 20 } } });
  const link = new EdgeLinkClient({ backoff: { baseMs: 50, capMs: 200 }, auditIntervalMs: 60_000, ...linkOptions });
  const agent = await startAgent(config, { link, log: (line) => lines.push(JSON.parse(line) as { level: string; msg: string }) });
  running.push({ agent, edge });
  return { agent, edge, link, lines, agentId, key, dataDir };
}

export const until = async (what: string, cond: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
