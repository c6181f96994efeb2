import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Server, Socket } from "node:net";
import { writeApiError, type ApiErrorCode } from "./apiError.js";
import { SECURITY_HEADERS } from "./securityHeaders.js";

/** Per-connection limits of the local API (docs/agent.md, "Transport hardening"). */
export interface ConnectionLimits {
  /** Open connections at most. At the cap a new connection closes the oldest one with no request in flight. */
  readonly maxConnections: number;
  /** A connection must complete its first request (TLS handshake included) within this. */
  readonly firstRequestTimeoutMs: number;
  /** Requests parsed on one connection but not yet answered (pipelining) at most. */
  readonly maxPipelined: number;
  /** Answer bytes written to one connection but not yet taken by the client, at most. */
  readonly maxBufferedBytes: number;
  /** A connection whose written answers are still not taken after this is cut. */
  readonly drainTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 256,
  firstRequestTimeoutMs: 5000,
  maxPipelined: 8,
  maxBufferedBytes: 256 * 1024,
  drainTimeoutMs: 2000,
};

/** Why a connection was closed by the guard (counted in /metrics). */
export type CutReason = "evicted" | "over_capacity" | "no_request" | "pipelined" | "buffered" | "undrained";
export const CUT_REASONS: readonly CutReason[] = ["evicted", "over_capacity", "no_request", "pipelined", "buffered", "undrained"];

/** A request refused before the app sees it: answered with `Connection: close`, nothing after it is. */
export interface Refusal {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly message: string;
}

export interface ConnectionStats {
  readonly open: number;
  /** Requests received and not yet answered, over all connections. */
  readonly inFlight: number;
  readonly cut: Readonly<Record<CutReason, number>>;
}

interface Connection {
  /** The TCP socket; `http` is the one requests arrive on (the TLS socket over it, or the same). */
  readonly raw: Socket;
  http: Socket;
  inFlight: number;
  requests: number;
  /** When it last had nothing in flight (monotonic ms): eviction picks the smallest. */
  idleSince: number;
  /** A refusal was answered: the connection is closing, later pipelined requests are ignored. */
  closing: boolean;
  readonly openedAt: number;
  /** Since when answer bytes have been waiting for the client without a pause (monotonic ms). */
  undrainedSince: number | undefined;
}

const remoteKey = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}`;

const HEADER_END = Buffer.from("\r\n\r\n");

/** How many header blocks end in `chunk`, counting no further than `limit` + 1. */
function requestEnds(chunk: Buffer, limit: number): number {
  let n = 0;
  for (let at = chunk.indexOf(HEADER_END); at >= 0 && n <= limit; at = chunk.indexOf(HEADER_END, at + 4)) n++;
  return n;
}

/**
 * Per-connection accounting around the request listener. @hono/node-server answers asynchronously,
 * so Node's own pipelining back-pressure (which looks at bytes already written) does not see the
 * answers still being made: a client that pipelines thousands of requests and never reads would
 * have every one parsed and answered into memory. The guard bounds, per connection, the requests
 * in flight (screening each chunk before Node parses it, and counting each request), and the
 * answer bytes not drained; cuts a connection that stays undrained; gives every connection a
 * deadline for its first request; and at the connection cap closes the oldest idle connection
 * instead of refusing the new one (so idle connections cannot lock clients out).
 */
export class ConnectionGuard {
  private readonly byRaw = new Map<Socket, Connection>();
  private readonly byHttp = new WeakMap<Socket, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  private readonly cuts: Record<CutReason, number> = { evicted: 0, over_capacity: 0, no_request: 0, pipelined: 0, buffered: 0, undrained: 0 };
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Tracks the server's connections (its TCP sockets, and for HTTPS the TLS sockets over them). */
  attach(server: Server, options: { readonly tls: boolean }): void {
    server.on("connection", (socket: Socket) => {
      const c = this.opened(socket, options.tls);
      if (c && !options.tls) this.screenChunks(c);
    });
    // The TLS socket is made over the TCP one; both have the same peer address and port.
    server.on("secureConnection", (tls: Socket) => {
      const c = this.byRemote.get(remoteKey(tls));
      if (!c) return;
      c.http = tls;
      this.byHttp.set(tls, c);
      this.screenChunks(c);
    });
    // Deadlines are checked by one sweep over the open connections rather than by events: an answer
    // whose bytes never leave the socket never finishes, so no per-answer event would fire.
    const every = Math.max(25, Math.min(250, this.limits.firstRequestTimeoutMs / 4, this.limits.drainTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
    server.once("close", () => clearInterval(this.sweeper));
  }

  /** Wraps the app's listener: counts requests per connection, refuses through `gate` before the app. */
  wrap(listener: RequestListener, gate: (req: IncomingMessage) => Refusal | undefined): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const c = this.connectionOf(req.socket);
      if (!c) {
        // Not a connection this guard saw open (cannot happen once attached): refuse rather than serve unguarded.
        req.socket.destroy();
        return;
      }
      // Answered a refusal (the socket goes once it is flushed), or already cut: nothing more is answered.
      if (c.closing || !this.byRaw.has(c.raw)) return;
      c.requests++;
      c.inFlight++;
      // Node parses every request in a chunk at once; past the bound the client is flooding.
      if (c.inFlight > this.limits.maxPipelined) return this.cut(c, "pipelined");
      if (c.http.writableLength > this.limits.maxBufferedBytes) return this.cut(c, "buffered");
      res.once("close", () => this.answered(c));
      const refusal = gate(req);
      if (refusal) {
        c.closing = true;
        writeApiError(res, refusal.status, refusal.code, refusal.message, SECURITY_HEADERS);
        return;
      }
      void listener(req, res);
    };
  }

  stats(): ConnectionStats {
    let inFlight = 0;
    for (const c of this.byRaw.values()) inFlight += c.inFlight;
    return { open: this.byRaw.size, inFlight, cut: { ...this.cuts } };
  }

  /**
   * Node's parser handles a whole chunk (up to 64 KiB, some 1,500 small requests) before anything
   * can stop it, making a request and a response object for each even after the socket was
   * destroyed: about 0.1 s of the event loop per chunk. So the chunks pass through here first, and
   * one that brings more requests than the connection may have in flight is never parsed: the
   * connection is cut instead. Requests are counted by their header terminator (CRLF CRLF); the
   * count per request in `wrap` stays the exact check.
   */
  private screenChunks(c: Connection): void {
    const socket = c.http;
    // Node's HTTP server listens for 'data' once per socket (socketOnData); anything else is a
    // Node we do not know, where only the per-request checks apply.
    const listeners = socket.listeners("data") as ((chunk: Buffer) => void)[];
    if (listeners.length !== 1) return;
    const parse = listeners[0]!;
    socket.removeListener("data", parse);
    socket.on("data", (chunk: Buffer) => {
      if (c.inFlight + requestEnds(chunk, this.limits.maxPipelined) > this.limits.maxPipelined) return this.cut(c, "pipelined");
      parse.call(socket, chunk);
    });
  }

  private opened(raw: Socket, tls: boolean): Connection | undefined {
    if (this.byRaw.size >= this.limits.maxConnections && !this.evictOne()) {
      this.cuts.over_capacity++;
      raw.destroy();
      return undefined;
    }
    const now = performance.now();
    const c: Connection = { raw, http: raw, inFlight: 0, requests: 0, idleSince: now, closing: false, openedAt: now, undrainedSince: undefined };
    this.byRaw.set(raw, c);
    this.byHttp.set(raw, c);
    // Only a TLS socket needs finding by peer address (a getpeername call per connection).
    const key = tls ? remoteKey(raw) : undefined;
    if (key !== undefined) this.byRemote.set(key, c);
    raw.once("close", () => {
      this.byRaw.delete(raw);
      if (key !== undefined && this.byRemote.get(key) === c) this.byRemote.delete(key);
    });
    return c;
  }

  /**
   * Closes an idle connection (no request in flight); false if every one is busy. First the oldest
   * that never completed a request (a silent or slow opener), then the keep-alive connection idle
   * the longest: a client that was served keeps its connection through a flood of silent ones.
   */
  private evictOne(): boolean {
    let silent: Connection | undefined;
    let kept: Connection | undefined;
    for (const c of this.byRaw.values()) {
      if (c.inFlight > 0) continue;
      if (c.requests === 0) {
        if (silent === undefined || c.openedAt < silent.openedAt) silent = c;
      } else if (kept === undefined || c.idleSince < kept.idleSince) kept = c;
    }
    const victim = silent ?? kept;
    if (!victim) return false;
    this.cut(victim, "evicted");
    return true;
  }

  private connectionOf(socket: Socket): Connection | undefined {
    return this.byHttp.get(socket) ?? (this.byRemote.size > 0 ? this.byRemote.get(remoteKey(socket)) : undefined);
  }

  private answered(c: Connection): void {
    c.inFlight--;
    if (c.inFlight === 0) c.idleSince = performance.now();
    if (this.byRaw.has(c.raw) && c.http.writableLength > this.limits.maxBufferedBytes) this.cut(c, "buffered");
  }

  /** The deadlines: first request, answers drained; and the answer-buffer bound between requests. */
  private sweep(): void {
    const now = performance.now();
    for (const c of this.byRaw.values()) {
      if (c.requests === 0) {
        if (now - c.openedAt > this.limits.firstRequestTimeoutMs) this.cut(c, "no_request");
        continue;
      }
      const waiting = c.http.writableLength;
      if (waiting > this.limits.maxBufferedBytes) this.cut(c, "buffered");
      else if (waiting === 0) c.undrainedSince = undefined;
      else if (c.undrainedSince === undefined) c.undrainedSince = now;
      else if (now - c.undrainedSince > this.limits.drainTimeoutMs) this.cut(c, "undrained");
    }
  }

  private cut(c: Connection, reason: CutReason): void {
    if (!this.byRaw.delete(c.raw)) return;
    this.cuts[reason]++;
    c.http.destroy();
    c.raw.destroy();
  }
}
