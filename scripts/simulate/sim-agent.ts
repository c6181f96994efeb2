/**
 * One lightweight simulated agent: a real enrolled identity, a real connect JWT, one `ws` socket
 * speaking protocol v1 (hello → welcome → summaries, signed records, pings), and measurements of what
 * comes back. It behaves like an honest agent/link: its Lamport clock runs at its declared tokenHz,
 * ticks once per message it sends and merges every clock the edge sends (welcome, field, ack).
 * It never reconnects: a closed socket is what the report counts.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import WebSocket from "ws";
import { LamportClock } from "../../shared/causality/index.js";
import { wrapPhase } from "../../shared/kuramoto/index.js";
import { recordSigningInput } from "../../shared/log/index.js";
import { decodeEdgeMessage, recordToWire, signConnectToken, type EdgeMessage, type WireRecord } from "../../shared/protocol/index.js";
import type { RawSamples } from "./sim-recorder.js";

export interface SimIdentity {
  readonly index: number;
  readonly agentId: string;
  readonly audience: string;
  readonly connectUrl: string;
  /** Ed25519 seed (32 bytes). */
  readonly secretKey: Uint8Array;
  /** Ed25519 public key, base64url (the enrolled JWK's x). */
  readonly publicKeyX: string;
}

export interface AgentRates {
  /** Summaries per second. */
  readonly rate: number;
  /** Records per second (0: none). */
  readonly records: number;
  readonly batch: number;
  /** Seconds between pings (0: none). */
  readonly pingS: number;
  readonly tokenHz: number;
}

/** [start, end) epoch ms during which this agent sends at `factor`× its rates. */
export interface BurstWindow {
  readonly start: number;
  readonly end: number;
  readonly factor: number;
}

/** Unacknowledged records messages in flight at most (the real link keeps ≤ 4 batches). */
const MAX_IN_FLIGHT_MESSAGES = 4;
/** Pending summary sends kept for the end-to-end field latency (older ones are dropped). */
const MAX_PENDING_SUMMARIES = 64;
const WELCOME_TIMEOUT_MS = 60_000;

export class SimAgent {
  readonly #id: SimIdentity;
  readonly #rates: AgentRates;
  readonly #out: RawSamples;
  readonly #clock = new LamportClock();
  readonly #signingKey: KeyObject;
  readonly #omega: number;
  readonly #theta0: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #ws: WebSocket | undefined;
  #startedAt = 0;
  #tokenTicks = 0;
  #burst: BurstWindow | undefined;
  #stopping = false;
  #welcomed = false;
  /** Send times of summaries not yet covered by a field broadcast. */
  #pendingSummaries: number[] = [];
  /** Records: sealed until acknowledged, the next seq to send, the edge's nextSeq. */
  readonly #sealed = new Map<number, WireRecord>();
  readonly #sentAt = new Map<number, number>();
  #sendNext = 0;
  #ackedNext = 0;
  readonly #pingsSent = new Map<string, number>();
  /** True while the socket is open and welcomed (what "still connected" means at the end). */
  connected = false;

  constructor(id: SimIdentity, rates: AgentRates, out: RawSamples) {
    this.#id = id;
    this.#rates = rates;
    this.#out = out;
    this.#signingKey = createPrivateKey({
      key: { kty: "OKP", crv: "Ed25519", x: id.publicKeyX, d: Buffer.from(id.secretKey).toString("base64url") },
      format: "jwk",
    });
    // Natural frequencies around 1 Hz, phases anywhere: consistent θ(t) = θ0 + ω·t.
    this.#omega = 2 * Math.PI * (0.8 + 0.4 * Math.random());
    this.#theta0 = (Math.random() * 2 - 1) * Math.PI;
  }

  setBurst(window: BurstWindow | undefined): void {
    this.#burst = window;
  }

  /** Connects and completes hello → welcome; resolves true on welcome, false on any failure (recorded). */
  async start(): Promise<boolean> {
    const begun = Date.now();
    this.#startedAt = begun;
    let jwt: string;
    try {
      jwt = await signConnectToken({ secretKey: this.#id.secretKey, agentId: this.#id.agentId, audience: this.#id.audience });
    } catch (err) {
      this.#out.connectFailures.push([Date.now(), `jwt: ${(err as Error).message}`, this.#id.index]);
      return false;
    }
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, failure?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok && failure !== undefined) this.#out.connectFailures.push([Date.now(), failure, this.#id.index]);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        settle(false, "welcome_timeout");
        this.#ws?.terminate();
      }, WELCOME_TIMEOUT_MS);
      const ws = new WebSocket(this.#id.connectUrl, { headers: { Authorization: `Bearer ${jwt}` }, perMessageDeflate: false });
      this.#ws = ws;
      ws.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => {
          let code = `http_${res.statusCode ?? 0}`;
          try {
            code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? code;
          } catch {
            // not our JSON: keep the status
          }
          settle(false, code);
        });
      });
      ws.on("error", (err: NodeJS.ErrnoException) => settle(false, err.code ?? err.message.slice(0, 60)));
      ws.on("open", () => {
        this.#send({ v: 1, type: "hello", agentId: this.#id.agentId, lamport: this.#tickForSend(), software: "becomingone-simulate/1" });
      });
      ws.on("message", (data: WebSocket.RawData) => {
        const message = decodeEdgeMessage(data.toString());
        if (!message.ok) {
          this.#out.errors.push([Date.now(), `invalid_edge_message`, "", this.#id.index]);
          return;
        }
        if (message.message.type === "welcome" && !this.#welcomed) {
          this.#welcomed = true;
          this.connected = true;
          const now = Date.now();
          this.#out.connects.push(now, now - begun);
          this.#onWelcome(message.message);
          settle(true);
          return;
        }
        this.#onMessage(message.message);
      });
      ws.on("close", (code: number) => {
        const wasConnected = this.connected;
        this.connected = false;
        this.#clearTimers();
        if (!this.#stopping && wasConnected) this.#out.closes.push([Date.now(), code, this.#id.index]);
        settle(false, `closed_${code}`);
      });
    });
  }

  /** Ends the session (close 1000) without counting it as a disconnect. */
  stop(): void {
    this.#stopping = true;
    this.#clearTimers();
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.close(1000, "simulation over");
    else ws?.terminate();
  }

  /** Hard stop for stragglers after stop() (sockets that never finish their close handshake). */
  terminate(): void {
    this.#stopping = true;
    this.#ws?.terminate();
  }

  #onWelcome(welcome: Extract<EdgeMessage, { type: "welcome" }>): void {
    this.#clock.update(welcome.lamport);
    this.#sendNext = welcome.resume.nextSeq;
    this.#ackedNext = welcome.resume.nextSeq;
    // Random offsets spread every agent's sends over the interval, as independent devices would.
    this.#loop(() => 1000 / (this.#rates.rate * this.#factor()), () => this.#sendSummary());
    if (this.#rates.records > 0) this.#loop(() => (1000 * this.#rates.batch) / (this.#rates.records * this.#factor()), () => this.#sendRecords());
    if (this.#rates.pingS > 0) this.#loop(() => this.#rates.pingS * 1000, () => this.#sendPing());
  }

  #onMessage(message: EdgeMessage): void {
    const now = Date.now();
    switch (message.type) {
      case "field": {
        this.#clock.update(message.lamport);
        this.#out.fieldBroadcast.push(now, now - message.t);
        this.#out.fieldN.push(now, message.n);
        // Every summary sent at or before the broadcast instant could be in this field.
        const keep: number[] = [];
        for (const sentAt of this.#pendingSummaries) {
          if (sentAt <= message.t) this.#out.fieldE2e.push(sentAt, now - sentAt);
          else keep.push(sentAt);
        }
        this.#pendingSummaries = keep;
        return;
      }
      case "ack": {
        this.#clock.update(message.lamport);
        const first = message.acks[0];
        if (first !== undefined) {
          const sentAt = this.#sentAt.get(first.seq);
          if (sentAt !== undefined) this.#out.ackLatency.push(sentAt, now - sentAt);
        }
        if (message.nextSeq > this.#ackedNext) {
          this.#out.recordsAcked.push(now, message.nextSeq - this.#ackedNext);
          for (let seq = this.#ackedNext; seq < message.nextSeq; seq++) {
            this.#sealed.delete(seq);
            this.#sentAt.delete(seq);
          }
          this.#ackedNext = message.nextSeq;
        }
        if (this.#sendNext < this.#ackedNext) this.#sendNext = this.#ackedNext;
        return;
      }
      case "pong": {
        const sentAt = this.#pingsSent.get(message.nonce);
        if (sentAt !== undefined) {
          this.#pingsSent.delete(message.nonce);
          this.#out.pings.push(sentAt, now - sentAt);
        }
        return;
      }
      case "error": {
        this.#out.errors.push([now, message.code, message.ref ?? "", this.#id.index]);
        if (message.code === "seq_gap" && typeof message.details?.expected === "number") this.#sendNext = message.details.expected;
        return;
      }
      case "standing":
        if (message.quarantined) this.#out.quarantines.push([now, this.#id.index]);
        return;
      case "welcome":
      case "config":
      case "checkpoint":
        return;
    }
  }

  #factor(): number {
    const b = this.#burst;
    if (b === undefined) return 1;
    const now = Date.now();
    return now >= b.start && now < b.end ? b.factor : 1;
  }

  /** A self-rescheduling timer whose interval follows the current rate; first run at a random offset. */
  #loop(intervalMs: () => number, run: () => void): void {
    const schedule = (delay: number) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.connected) return;
        run();
        schedule(intervalMs());
      }, delay);
      this.#timers.add(timer);
    };
    schedule(Math.random() * intervalMs());
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** The token clock's ticks since start, then one for this send (what agent/runtime does at tokenHz). */
  #tickForSend(): number {
    const due = Math.floor(((Date.now() - this.#startedAt) * this.#rates.tokenHz) / 1000);
    if (due > this.#tokenTicks) {
      this.#clock.restore(this.#clock.time + (due - this.#tokenTicks));
      this.#tokenTicks = due;
    }
    return this.#clock.tick();
  }

  #send(message: Record<string, unknown>): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(message));
  }

  #sendSummary(): void {
    const t = Date.now();
    this.#send({
      v: 1,
      type: "summary",
      lamport: this.#tickForSend(),
      t,
      theta: wrapPhase(this.#theta0 + (this.#omega * (t - this.#startedAt)) / 1000),
      omega: this.#omega,
      coherence: 0.5,
      tokenHz: this.#rates.tokenHz,
      phaseDrift: 0,
      collapsed: false,
    });
    this.#out.summariesSent.push(t);
    this.#pendingSummaries.push(t);
    if (this.#pendingSummaries.length > MAX_PENDING_SUMMARIES) this.#pendingSummaries.shift();
  }

  #sendRecords(): void {
    const now = Date.now();
    const batch = this.#rates.batch;
    // Backpressure as the real link does it: a bounded window of unacknowledged messages.
    if (this.#sendNext - this.#ackedNext >= MAX_IN_FLIGHT_MESSAGES * batch) return;
    const records: WireRecord[] = [];
    for (let seq = this.#sendNext; seq < this.#sendNext + batch; seq++) records.push(this.#record(seq, now));
    // The first send counts: a resend after a seq_gap is part of the delay (and no timer-driven
    // resend exists that would cap what the ack column can show).
    if (!this.#sentAt.has(this.#sendNext)) this.#sentAt.set(this.#sendNext, now);
    this.#send({ v: 1, type: "records", lamport: this.#tickForSend(), records });
    this.#out.recordsSent.push(now, records.length);
    this.#sendNext += batch;
  }

  /** The record at seq: sealed once (the same bytes on a resend), signing input from shared/log. */
  #record(seq: number, now: number): WireRecord {
    const cached = this.#sealed.get(seq);
    if (cached !== undefined) return cached;
    const fields = { agentId: this.#id.agentId, seq, kind: "memory", timestamp: now, payloadJson: JSON.stringify({ seq, c: 0.5 }) };
    // node:crypto's Ed25519 (≈0.1 ms) over shared/log's signing input gives the bytes sealRecord
    // gives (Ed25519 is deterministic); sealRecord's pure-JS signer costs ≈1.5 ms, too slow for 1,000 agents.
    const signature = new Uint8Array(sign(null, recordSigningInput(fields), this.#signingKey));
    const wire = recordToWire({ ...fields, signature });
    this.#sealed.set(seq, wire);
    return wire;
  }

  #sendPing(): void {
    const now = Date.now();
    const nonce = `${this.#id.index}-${now.toString(36)}`;
    this.#pingsSent.set(nonce, now);
    if (this.#pingsSent.size > 16) this.#pingsSent.delete(this.#pingsSent.keys().next().value!);
    this.#send({ v: 1, type: "ping", nonce });
  }
}
