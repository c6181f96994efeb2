import { isLogError, validateRecordFields, type SealedRecord } from "../../shared/log/index.js";
import { base64UrlToBytes, decodeAgentMessage, LIMITS, recordFromWire, type Hello, type LogReport, type RecordsBatch, type Summary } from "../../shared/protocol/index.js";
import { sendError, sendMessage, strike, writeConnection, type AttachedSocket, type ConnectionState } from "./connection.js";
import type { Field } from "./field.js";
import { SUMMARY_BURST } from "./field.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import { recordLogReport } from "./log-reports.js";
import { hitRateLimit } from "./rate-limit.js";
import { appendOutbox, type OutboxData, type OutboxValue } from "./outbox.js";
import type { Presence } from "./presence.js";
import { recordHello, setNextSeq, standingReason, type AgentRow } from "./registry.js";
import type { AgentRows } from "./agent-rows.js";
import type { FleetStorage } from "./sql-database.js";
import { standingMessage, type ClockReading, type Standing } from "./standing.js";

/**
 * Which timers a message may have moved: `"all"` (a hello opens a session), the named tasks, or
 * none. Most messages move none, so the object does not recompute every deadline per message.
 */
export type Replan = "all" | readonly ("field" | "checkpoint" | "webhooks")[] | null;

/** Messages per second a connection may send on average, and back to back. */
const { connectionMessagesPerSecond: MESSAGE_RATE_PER_S, connectionMessageBurst: MESSAGE_BURST } = LIMITS;

/** Checks a record's signature against the agent's enrolled key (record-signature.ts in workerd). */
export interface SignatureCheck {
  verify(record: SealedRecord, publicKey: Uint8Array): Promise<boolean>;
}

export interface SessionParts {
  readonly storage: FleetStorage;
  readonly rows: AgentRows;
  readonly identity: FleetIdentity;
  readonly presence: Presence;
  readonly standing: Standing;
  readonly field: Field;
  readonly log: GlobalLog;
  readonly signatures: SignatureCheck;
  /**
   * Runs `work` with no other event delivered meanwhile (workerd: `blockConcurrencyWhile`). Without
   * it, the continuation after the signature check queued behind every message that arrived during
   * it: under load, acks waited seconds while summaries flowed (issue 12's profile).
   */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * The socket protocol as seen from the edge: one decoded message from an agent becomes module calls
 * and replies (hello → welcome, field, standing; summary; records; ping → pong). Errors go back as
 * protocol errors and count as strikes against the connection (connection.ts).
 */
export class AgentSession {
  readonly #parts: SessionParts;
  readonly #buckets = new WeakMap<AttachedSocket, { tokens: number; at: number }>();
  readonly #refusals = new WeakMap<AttachedSocket, number>();

  constructor(parts: SessionParts) {
    this.#parts = parts;
  }

  /** Handles one frame from the agent's current socket; returns the timers it may have moved. */
  async receive(ws: AttachedSocket, state: ConnectionState, frame: string | ArrayBuffer, now: number): Promise<Replan> {
    const { rows, presence } = this.#parts;
    if (!this.#admit(ws, now)) {
      sendError(ws, "rate_limited", `at most ${MESSAGE_RATE_PER_S} messages per second per connection (bursts of ${MESSAGE_BURST})`, {
        details: { perSecond: MESSAGE_RATE_PER_S, burst: MESSAGE_BURST },
      });
      // One strike per burst's worth of refusals: a lagging object handles an honest agent's queued
      // messages back to back (refused, shed), but only a flood refuses hundreds a minute.
      if (this.#countRefusal(ws) % MESSAGE_BURST === 0) strike(ws, state, now);
      return null;
    }
    const decoded = decodeAgentMessage(frame);
    if (!decoded.ok) {
      sendError(ws, decoded.code, decoded.message, { ref: decoded.ref });
      strike(ws, state, now);
      return null;
    }
    const message = decoded.message;
    const row = rows.get(state.agentId);
    if (row === undefined || row.status !== "active") {
      ws.close(1008, "agent is not active");
      return null;
    }
    presence.seen(state.agentId, now);
    if (message.type === "ping") {
      sendMessage(ws, { type: "pong", nonce: message.nonce, serverTime: now });
      return null;
    }
    if (message.type === "hello") {
      this.#hello(ws, state, row, message, now);
      return "all";
    }
    if (!state.helloed) {
      sendError(ws, "hello_required", "send hello before any other message", { ref: message.type });
      strike(ws, state, now);
      return null;
    }
    if (message.type === "summary") return this.#summary(ws, row, message, now);
    if (message.type === "log_report") return this.#logReport(ws, row, message, now);
    // Issue 15 seam: helper B replaces the first line with the agent-checkpoint judge, helper C the second with cosignatures.
    if (message.type === "agent_checkpoint") return this.#notYet(ws, message.type);
    if (message.type === "cosignature") return this.#notYet(ws, message.type);
    // Signatures first (async, needs only the immutable key); then every state read and write in
    // one synchronous step, so an interleaved message can never see half of this one.
    return this.#parts.exclusive(async () => {
      const verdicts = await this.#verify(row, message);
      const current = rows.get(row.id);
      if (current === undefined || current.status !== "active") return null;
      return this.#records(ws, state, current, message, verdicts, Date.now());
    });
  }

  #notYet(ws: AttachedSocket, type: string): Replan {
    sendError(ws, "bad_message", `${type} is not handled by this edge yet`, { ref: type });
    return null;
  }

  /** Nothing a peer sends may throw out of the object: report, count, carry on. */
  failed(ws: AttachedSocket, state: ConnectionState, err: unknown): void {
    console.error("fleet: message handling failed", err);
    this.#parts.log.reload();
    this.#parts.rows.reload();
    sendError(ws, "internal_error", "the edge could not process this message; it was not applied");
    strike(ws, state, Date.now());
  }

  /**
   * A per-connection token bucket over all messages, so a flood of valid ones (pings, tiny batches)
   * cannot monopolise the object. Memory only: a wake-up from hibernation starts a fresh bucket.
   */
  #admit(ws: AttachedSocket, now: number): boolean {
    const bucket = this.#buckets.get(ws) ?? { tokens: MESSAGE_BURST, at: now };
    bucket.tokens = Math.min(MESSAGE_BURST, bucket.tokens + ((now - bucket.at) / 1000) * MESSAGE_RATE_PER_S);
    bucket.at = now;
    this.#buckets.set(ws, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #countRefusal(ws: AttachedSocket): number {
    const count = (this.#refusals.get(ws) ?? 0) + 1;
    this.#refusals.set(ws, count);
    return count;
  }

  /**
   * Judges the message's clock (standing.ts) and answers a violation with its error code. Records
   * have no other standing step, so their standing changes are announced here; hello and summary
   * announce their own. Returns the fleet clock for the reply.
   */
  #clock(ws: AttachedSocket, row: AgentRow, reading: ClockReading, now: number): { lamport: number; accepted: boolean } {
    // The row is updated in place; records compare their standing before and after.
    const before = reading.kind === "records" ? { ...row } : row;
    const outcome = this.#parts.standing.receiveClock(row, reading, this.#parts.identity.config(), now);
    if (outcome.violation !== null) {
      sendError(ws, outcome.violation.code, outcome.violation.message, { ref: reading.kind, details: { ...outcome.violation.details } });
    }
    if (reading.kind === "records") this.#announceStanding(ws, before, now);
    return outcome;
  }

  /**
   * Tells the agent when its standing changed, and everyone when the field's membership did.
   * Returns true when that broadcast was deferred (the alarm must be replanned).
   */
  #announceStanding(ws: AttachedSocket, before: AgentRow, now: number): boolean {
    const { rows, field } = this.#parts;
    const after = rows.get(before.id);
    if (after === undefined) return false;
    const [was, is] = [standingReason(before), standingReason(after)];
    if (was !== is) sendMessage(ws, standingMessage(after));
    // A changed standing may change who else is in the field (driftExcludes counts the fleet).
    if (was !== is || field.includes(before, now) !== field.includes(after, now)) return field.membershipChanged(now);
    return false;
  }

  #hello(ws: AttachedSocket, state: ConnectionState, row: AgentRow, hello: Hello, now: number): void {
    const { rows, identity, field, log } = this.#parts;
    if (hello.agentId !== state.agentId) {
      sendError(ws, "agent_mismatch", `this connection is authenticated as ${state.agentId}, not ${hello.agentId}`, { ref: "hello" });
      strike(ws, state, now);
      return;
    }
    // A hello opens a session: its clock sets the agent's baseline (a restarted agent may be behind).
    const { lamport } = this.#clock(ws, row, { kind: "hello", lamport: hello.lamport, sentAt: null, tokenHz: null }, now);
    recordHello(rows, row.id, hello);
    state.helloed = true;
    writeConnection(ws, state);
    const config = identity.config();
    sendMessage(ws, {
      type: "welcome",
      agentId: row.id,
      fleetId: identity.fleetId,
      resume: { nextSeq: row.next_seq, lastAckedSeq: row.next_seq === 0 ? null : row.next_seq - 1 },
      lamport,
      serverTime: now,
      config,
      log: { origin: identity.origin, verifierKey: identity.signer()?.verifierKey ?? null, checkpoint: log.latestCheckpoint()?.note ?? null },
    });
    sendMessage(ws, { type: "field", ...field.message(now) });
    sendMessage(ws, standingMessage(rows.get(row.id) ?? row));
  }

  /**
   * A summary over the agent's rate (by its own send times) is refused, and only that one: never a
   * strike, so neither a burst nor the object's own lag can get a well-behaved agent disconnected.
   */
  #summary(ws: AttachedSocket, row: AgentRow, summary: Summary, now: number): Replan {
    const { identity, field } = this.#parts;
    if (!field.admitSummary(row, summary.t, now)) {
      const summaryHz = identity.config().summaryHz;
      sendError(ws, "rate_limited", `summaries at most ${summaryHz} per second (bursts of ${SUMMARY_BURST}); this one was refused`, {
        ref: "summary",
        details: { summaryHz, burst: SUMMARY_BURST },
      });
      return null;
    }
    // Snapshot before the clock is judged: the row object is updated in place.
    const before = { ...row };
    const clock = this.#clock(ws, row, { kind: "summary", lamport: summary.lamport, sentAt: summary.t, tokenHz: summary.tokenHz }, now);
    if (clock.accepted) field.recordSummary(row.id, summary, now);
    return this.#announceStanding(ws, before, now) ? ["field"] : null;
  }

  /**
   * The agent's audit found the edge's log inconsistent: an event for operators with its evidence,
   * at most one per agent per LOG_REPORT_INTERVAL_MS (log-reports.ts). Its clock is judged like any
   * message's; nothing else answers it.
   */
  #logReport(ws: AttachedSocket, row: AgentRow, report: LogReport, now: number): Replan {
    const { storage } = this.#parts;
    const clock = this.#clock(ws, row, { kind: "records", lamport: report.lamport, sentAt: null, tokenHz: null }, now);
    if (!clock.accepted) return null;
    recordLogReport(storage, row.id, report, now);
    return ["webhooks"];
  }

  async #verify(row: AgentRow, batch: RecordsBatch): Promise<boolean[]> {
    const publicKey = base64UrlToBytes(row.public_key_x);
    return Promise.all(
      batch.records.map((wire) => (wire.agentId === row.id ? this.#parts.signatures.verify(recordFromWire(wire), publicKey) : Promise.resolve(false))),
    );
  }

  /** Appends what it can and acks; a grown log may bring the next checkpoint due, an event its delivery. */
  #records(ws: AttachedSocket, state: ConnectionState, row: AgentRow, batch: RecordsBatch, signed: boolean[], now: number): Replan {
    const { storage, log } = this.#parts;
    const acks: { seq: number; index: number }[] = [];
    let nextSeq = row.next_seq;
    let refused = false;
    let announced = false;
    let gapOnly = false;
    const refuse = (code: "agent_mismatch" | "bad_record" | "seq_conflict" | "seq_gap" | "bad_signature", message: string, details: Record<string, number | string>): void => {
      sendError(ws, code, message, { ref: "records", details });
      refused = true;
      gapOnly = code === "seq_gap";
    };
    storage.transaction(() => {
      for (const [position, wire] of batch.records.entries()) {
        if (wire.agentId !== state.agentId) {
          return refuse("agent_mismatch", `records must be this agent's own (${state.agentId}); got one for ${wire.agentId}`, { seq: wire.seq });
        }
        const record = recordFromWire(wire);
        // The encoding first: a record without valid entry bytes has nothing to compare with a stored
        // one and nothing a signature could cover (its check would fail and misname the fault).
        try {
          validateRecordFields(record);
        } catch (err) {
          if (!isLogError(err)) throw err;
          return refuse("bad_record", `record seq ${record.seq}: ${err.message}`, { seq: record.seq });
        }
        if (record.seq < nextSeq) {
          const existing = log.find(record.agentId, record.seq);
          const outcome = existing === undefined ? undefined : log.append(record, now);
          if (outcome === undefined || outcome.kind === "conflict") {
            return refuse("seq_conflict", `seq ${record.seq} was already acknowledged with different content`, { seq: record.seq });
          }
          acks.push({ seq: record.seq, index: outcome.index });
          continue;
        }
        if (record.seq > nextSeq) {
          return refuse("seq_gap", `expected seq ${nextSeq}, got ${record.seq}; resend from ${nextSeq}`, { expected: nextSeq, got: record.seq });
        }
        if (!signed[position]) {
          return refuse("bad_signature", `record seq ${record.seq} is not signed by this agent's enrolled key`, { seq: record.seq });
        }
        let outcome;
        try {
          outcome = log.append(record, now);
        } catch (err) {
          if (!isLogError(err)) throw err;
          return refuse("bad_record", `record seq ${record.seq}: ${err.message}`, { seq: record.seq });
        }
        acks.push({ seq: record.seq, index: outcome.index });
        if (outcome.kind === "appended" && record.kind === "sync.collapse" && hitRateLimit(storage.sql, `collapse:${row.id}`, COLLAPSE_EVENTS_PER_MINUTE, 60_000, now).allowed) {
          appendOutbox(storage.sql, "sync.collapse", collapseData(record, outcome.index), now);
          announced = true;
        }
        nextSeq += 1;
      }
    });
    const grew = nextSeq !== row.next_seq;
    if (grew) setNextSeq(this.#parts.rows, row.id, nextSeq);
    const lamport = this.#clock(ws, row, { kind: "records", lamport: batch.lamport, sentAt: null, tokenHz: null }, now).lamport;
    // Every records message gets its ack, a refused one too (after its error, possibly with no acks):
    // agents move their resume point by nextSeq.
    sendMessage(ws, { type: "ack", acks, nextSeq, lamport });
    // A gap is how a message lost (or shed by a lagging object) shows; the agent resends from
    // nextSeq. It is answered, never a strike.
    if (refused && !gapOnly) strike(ws, state, now);
    if (!grew) return null;
    return announced ? ["checkpoint", "webhooks"] : ["checkpoint"];
  }
}

/**
 * `sync.collapse` events per agent per minute at most: the record's kind is the agent's word, and
 * one records message may carry 64 of them. Beyond it the records are logged but not announced.
 */
export const COLLAPSE_EVENTS_PER_MINUTE = 60;

/** Larger record payloads are not copied into the event (the record is in the global log at `index`). */
const COLLAPSE_PAYLOAD_MAX_BYTES = 16 * 1024;

/** The `sync.collapse` event's data for a record just appended at `index`. */
function collapseData(record: SealedRecord, index: number): OutboxData {
  let payload: OutboxData = { truncated: true };
  if (record.payloadJson.length <= COLLAPSE_PAYLOAD_MAX_BYTES) {
    const parsed: unknown = JSON.parse(record.payloadJson);
    payload = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as OutboxData) : { value: parsed as OutboxValue };
  }
  // An agent's timestamp may lie beyond what a Date can show; the milliseconds always go out.
  const data: Record<string, OutboxValue> = { agentId: record.agentId, seq: record.seq, index, sealedAtMs: record.timestamp };
  if (record.timestamp <= 8_640_000_000_000_000) data.sealedAt = new Date(record.timestamp).toISOString();
  data.payload = payload;
  return data;
}
