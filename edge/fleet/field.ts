import { driftExcludes, fieldMembers } from "../../shared/causality/index.js";
import { meanField, wrapPhase, type MeanField, type PhaseReport } from "../../shared/kuramoto/index.js";
import type { FleetConfig, Summary } from "../../shared/protocol/index.js";
import { sendMessage, type SocketDirectory } from "./connection.js";
import type { FleetClock } from "./fleet-clock.js";
import { readMeta, writeMeta } from "./fleet-identity.js";
import type { AgentRow } from "./registry.js";
import type { SqlDatabase } from "./sql-database.js";

/** Summaries an agent may send back to back (token bucket capacity); the average stays ≤ summaryHz. */
export const SUMMARY_BURST = 2;
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
  readonly #clock: FleetClock;
  readonly #sockets: SocketDirectory;
  readonly #config: () => FleetConfig;
  #lastBroadcastAt: number | undefined;

  constructor(sql: SqlDatabase, clock: FleetClock, sockets: SocketDirectory, config: () => FleetConfig) {
    this.#sql = sql;
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

  /** The agents the field may hold: connected, fresh, not quarantined; drifting or not. */
  #candidates(now: number): (PhaseReport & { drifting: boolean })[] {
    return this.#sql
      .exec<{ theta: number; omega: number; summary_t: number; drifting: number }>(
        `SELECT theta, omega, summary_t, drift_reason IS NOT NULL AS drifting FROM agents
         WHERE status = 'active' AND connected = 1 AND online = 1 AND quarantine_reason IS NULL
           AND theta IS NOT NULL AND summary_received_at >= ?`,
        now - this.#config().peerAgeMs,
      )
      .toArray()
      .map((r) => ({ theta: r.theta, omega: r.omega, t: r.summary_t, weight: 1, drifting: r.drifting === 1 }));
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
    const field = this.message(now);
    const message = { type: "field" as const, ...field };
    for (const ws of sockets) sendMessage(ws, message);
    writeMeta(this.#sql, "last_field_at", String(now));
    this.#lastBroadcastAt = now;
    return field;
  }

  /** The next broadcast on the cadence (now, if it is overdue); null without open sockets. */
  nextBroadcastAt(now: number, socketsOpen: boolean): number | null {
    if (!socketsOpen) return null;
    this.#lastBroadcastAt ??= Number(readMeta(this.#sql, "last_field_at") ?? "0");
    return Math.max(now, this.#lastBroadcastAt + 1000 / this.#config().fieldHz);
  }

  /**
   * Takes one summary token from the agent's bucket (summaryHz on average, bursts of SUMMARY_BURST,
   * so network jitter never punishes an agent that keeps the rate). False: over the rate.
   */
  takeSummaryToken(row: Pick<AgentRow, "id" | "summary_tokens" | "summary_tokens_at">, now: number): boolean {
    const summaryHz = this.#config().summaryHz;
    const tokens =
      row.summary_tokens === null || row.summary_tokens_at === null
        ? SUMMARY_BURST
        : Math.min(SUMMARY_BURST, row.summary_tokens + ((now - row.summary_tokens_at) / 1000) * summaryHz);
    const allowed = tokens >= 1;
    this.#sql.exec(`UPDATE agents SET summary_tokens = ?, summary_tokens_at = ? WHERE id = ?`, allowed ? tokens - 1 : tokens, now, row.id);
    return allowed;
  }

  /** Stores an accepted summary; phases are aligned to the edge's clock unless the agent's is plainly off. */
  recordSummary(agentId: string, summary: Summary, now: number): void {
    const t = Math.abs(summary.t - now) <= MAX_CLOCK_SKEW_MS ? summary.t : now;
    this.#sql.exec(
      `UPDATE agents SET summary_received_at = ?, summary_t = ?, theta = ?, omega = ?, coherence = ?, token_hz = ? WHERE id = ?`,
      now,
      t,
      wrapPhase(summary.theta),
      summary.omega,
      summary.coherence,
      summary.tokenHz,
      agentId,
    );
  }
}
