import { admitSummary, driftExcludes, fieldMembers } from "../../shared/causality/index.js";
import { meanField, wrapPhase, type MeanField, type PhaseReport } from "../../shared/kuramoto/index.js";
import type { FleetConfig, Summary } from "../../shared/protocol/index.js";
import { sendText, type SocketDirectory } from "./connection.js";
import type { AgentRows } from "./agent-rows.js";
import type { FleetClock } from "./fleet-clock.js";
import { readMeta, writeMeta } from "./fleet-identity.js";
import type { AgentRow } from "./registry.js";
import type { SqlDatabase } from "./sql-database.js";
import { PROTOCOL_VERSION } from "../../shared/protocol/index.js";

/** Summaries an agent may send back to back (token bucket capacity); the average stays ≤ summaryHz. */
export const SUMMARY_BURST = 2;
/**
 * Membership changes (a join, a close, a standing change) are broadcast at once, but at most this
 * often: a ramp of N joins was N broadcasts to up to N sockets, and it was what broke first.
 */
export const MEMBERSHIP_BROADCAST_GAP_MS = 100;
/** The most lag (ms) after which queued on-rate summaries are all still admitted (summary-admission.ts). */
export const SUMMARY_CREDIT_MS = 30_000;
/** An agent's summary time further than this from ours is not trusted for alignment. */
export const MAX_CLOCK_SKEW_MS = 2000;

export interface FieldMessage {
  readonly r: number;
  readonly psi: number;
  readonly omega: number;
  readonly n: number;
  readonly t: number;
  readonly lamport: number;
  readonly configVersion: number;
}

/**
 * The mean field: which agents are in it, the field itself, the summaries that feed it, and its
 * broadcast cadence (1/fieldHz while sockets are open; `last_field_at` in `meta`, cached).
 */
export class Field {
  readonly #sql: SqlDatabase;
  readonly #rows: AgentRows;
  readonly #clock: FleetClock;
  readonly #sockets: SocketDirectory;
  readonly #config: () => FleetConfig;
  #lastBroadcastAt: number | undefined;
  #changePending = false;

  constructor(sql: SqlDatabase, rows: AgentRows, clock: FleetClock, sockets: SocketDirectory, config: () => FleetConfig) {
    this.#sql = sql;
    this.#rows = rows;
    this.#clock = clock;
    this.#sockets = sockets;
    this.#config = config;
  }

  /** Whether `row` is in the field. `excludesDrift` is counted over the fleet only when needed: for an agent flagged for drift. */
  includes(row: AgentRow, now: number, excludesDrift?: boolean): boolean {
    const eligible =
      row.status === "active" &&
      row.connected === 1 &&
      row.online === 1 &&
      row.quarantine_reason === null &&
      row.theta !== null &&
      row.summary_received_at !== null &&
      now - row.summary_received_at <= this.#config().peerAgeMs;
    return eligible && (row.drift_reason === null || !(excludesDrift ?? this.driftExcludes(now)));
  }

  /** The agents the field may hold: connected, fresh, not quarantined; drifting or not. From memory (agent-rows.ts holds every connected agent). */
  #candidates(now: number): (PhaseReport & { drifting: boolean })[] {
    const oldest = now - this.#config().peerAgeMs;
    const candidates: (PhaseReport & { drifting: boolean })[] = [];
    for (const r of this.#rows.connected()) {
      if (r.status !== "active" || r.online !== 1 || r.quarantine_reason !== null || r.theta === null || r.summary_received_at === null) continue;
      if (r.summary_received_at < oldest) continue;
      candidates.push({ theta: r.theta, omega: r.omega ?? 0, t: r.summary_t ?? r.summary_received_at, weight: 1, drifting: r.drift_reason !== null });
    }
    return candidates;
  }

  /** Whether the soft drift flag excludes flagged agents right now (never when that would gut the field). */
  driftExcludes(now: number): boolean {
    const candidates = this.#candidates(now);
    const drifting = candidates.filter((c) => c.drifting).length;
    return driftExcludes(candidates.length - drifting, drifting);
  }

  compute(now: number): MeanField {
    return meanField(fieldMembers(this.#candidates(now)), now);
  }

  /** The field as a message; each one is a tick of the fleet clock. */
  message(now: number): FieldMessage {
    const field = this.compute(now);
    return { r: field.r, psi: field.psi, omega: field.omega, n: field.n, t: now, lamport: this.#clock.tick(), configVersion: this.#config().version };
  }

  /** Sends the field to every agent that said hello; returns it (null: nobody to send it to). */
  broadcast(now: number): FieldMessage | null {
    const sockets = this.#sockets.helloed();
    if (sockets.length === 0) return null;
    // Serialized once for every socket: at a thousand agents, per-socket JSON was a visible cost.
    const field = this.message(now);
    const text = JSON.stringify({ v: PROTOCOL_VERSION, type: "field", ...field });
    for (const ws of sockets) sendText(ws, text);
    writeMeta(this.#sql, "last_field_at", String(now));
    this.#lastBroadcastAt = now;
    this.#changePending = false;
    return field;
  }

  /**
   * Who is in the field changed: broadcast now, or as soon as MEMBERSHIP_BROADCAST_GAP_MS allows.
   * Returns true when deferred (the alarm must be replanned).
   */
  membershipChanged(now: number): boolean {
    const last = this.#lastBroadcast();
    if (now - last >= MEMBERSHIP_BROADCAST_GAP_MS) {
      this.broadcast(now);
      return false;
    }
    this.#changePending = true;
    return true;
  }

  #lastBroadcast(): number {
    this.#lastBroadcastAt ??= Number(readMeta(this.#sql, "last_field_at") ?? "0");
    return this.#lastBroadcastAt;
  }

  /** The next broadcast on the cadence (now, if it is overdue); null without open sockets. */
  nextBroadcastAt(now: number, socketsOpen: boolean): number | null {
    if (!socketsOpen) return null;
    const last = this.#lastBroadcast();
    const cadence = last + 1000 / this.#config().fieldHz;
    return Math.max(now, this.#changePending ? Math.min(cadence, last + MEMBERSHIP_BROADCAST_GAP_MS) : cadence);
  }

  /**
   * Whether the summary keeps the agent's rate, judged on its own send times (shared/causality
   * admitSummary: a lagging object never refuses on-rate summaries). The bucket is staged.
   */
  admitSummary(row: Pick<AgentRow, "id" | "summary_tokens" | "summary_tokens_at" | "summary_arrived_at" | "summary_lead">, sentAt: number, now: number): boolean {
    const { summary_tokens: tokens, summary_tokens_at: at, summary_arrived_at: arrivedAt, summary_lead: lead } = row;
    const previous = tokens === null || at === null || arrivedAt === null || lead === null ? null : { tokens, at, arrivedAt, lead };
    const rate = { summaryHz: this.#config().summaryHz, burst: SUMMARY_BURST, clockSlackMs: MAX_CLOCK_SKEW_MS, maxCreditMs: SUMMARY_CREDIT_MS };
    const { admitted, bucket } = admitSummary(previous, sentAt, now, rate);
    this.#rows.stage(row.id, { summary_tokens: bucket.tokens, summary_tokens_at: bucket.at, summary_arrived_at: bucket.arrivedAt, summary_lead: bucket.lead });
    return admitted;
  }

  /** Keeps an accepted summary (staged); phases are aligned to the edge's clock unless the agent's is plainly off. */
  recordSummary(agentId: string, summary: Summary, now: number): void {
    const t = Math.abs(summary.t - now) <= MAX_CLOCK_SKEW_MS ? summary.t : now;
    this.#rows.stage(agentId, {
      summary_received_at: now,
      summary_t: t,
      theta: wrapPhase(summary.theta),
      omega: summary.omega,
      coherence: summary.coherence,
      token_hz: summary.tokenHz,
    });
  }
}
