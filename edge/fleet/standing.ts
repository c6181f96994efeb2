import { absorbClock, assessPeerClock, CAUSAL_RULES, DEFAULT_STANDING_RULES, type ClockMessageKind } from "../../shared/causality/index.js";
import { LIMITS, type FleetConfig } from "../../shared/protocol/index.js";
import type { FleetClock } from "./fleet-clock.js";
import { appendOutbox } from "./outbox.js";
import { readPeerStanding, writePeerStanding } from "./peer-standing-store.js";
import { standingReason, type AgentRow } from "./registry.js";
import type { FleetStorage } from "./sql-database.js";

/** The clock an agent's message carries. */
export interface ClockReading {
  readonly kind: ClockMessageKind;
  readonly lamport: number;
  readonly sentAt: number | null;
  readonly tokenHz: number | null;
}

/** A clock refused by the hard rules, as the protocol error the agent gets. */
export interface ClockViolation {
  readonly code: "lamport_replay" | "lamport_jump";
  readonly message: string;
  readonly details: { readonly lamport: number; readonly excess: number; readonly bound: number };
}

export interface ClockOutcome {
  /** The fleet clock for the reply. */
  readonly lamport: number;
  readonly accepted: boolean;
  readonly violation: ClockViolation | null;
}

/** The `standing` message an agent gets about itself. */
export function standingMessage(row: Pick<AgentRow, "quarantine_reason" | "drift_reason">): {
  type: "standing";
  quarantined: boolean;
  reason: string | null;
  weight: number;
} {
  const reason = standingReason(row);
  return { type: "standing", quarantined: reason !== null, reason, weight: reason === null ? 1 : 0 };
}

/**
 * An agent's causal standing: each clock it sends is judged by shared/causality's rules (replay,
 * jump, sustained drift) and, only if accepted from an agent in good standing, absorbed into the
 * fleet clock with a bounded step. Quarantine and release are announced in the outbox in the same
 * transaction as the standing that changed.
 */
export class Standing {
  readonly #storage: FleetStorage;
  readonly #clock: FleetClock;

  constructor(storage: FleetStorage, clock: FleetClock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  receiveClock(row: Pick<AgentRow, "id" | "token_hz">, message: ClockReading, config: FleetConfig, now: number): ClockOutcome {
    return this.#storage.transaction(() => {
      const sql = this.#storage.sql;
      const before = readPeerStanding(sql, row.id);
      // Clamped: a fleet clock written before the protocol maximum existed must not be echoed as is.
      const local = Math.min(this.#clock.value(), LIMITS.lamportMax);
      const update = assessPeerClock(
        before,
        {
          kind: message.kind,
          lamport: message.lamport,
          tokenHz: message.tokenHz ?? row.token_hz,
          sentAt: message.sentAt,
          now,
          localLamport: local,
          latencyMs: CAUSAL_RULES.defaultLatencyMs,
          mergeHz: config.fieldHz,
        },
        { ...DEFAULT_STANDING_RULES, maxCausalOvershoot: config.drift.maxCausalOvershoot },
      );
      writePeerStanding(sql, row.id, update.standing, now);
      const verdict = update.verdict;
      let lamport = local;
      let violation: ClockViolation | null = null;
      if (verdict.kind === "accept") {
        if (verdict.absorbStep !== null) lamport = absorbClock(local, message.lamport, verdict.absorbStep, LIMITS.lamportMax);
        if (lamport !== local) this.#clock.set(lamport);
        if (verdict.lifted) appendOutbox(sql, "agent.released", { agentId: row.id }, now);
      } else {
        if (before.quarantine === null) appendOutbox(sql, "agent.quarantined", { agentId: row.id, reason: verdict.reason }, now);
        violation = {
          code: verdict.kind === "replay" ? "lamport_replay" : "lamport_jump",
          message: verdict.reason,
          details: { lamport: message.lamport, excess: Math.round(verdict.excess), bound: verdict.bound },
        };
      }
      if (update.drift === "flagged") appendOutbox(sql, "agent.quarantined", { agentId: row.id, reason: `causal drift: ${update.standing.drift}` }, now);
      if (update.drift === "cleared") appendOutbox(sql, "agent.released", { agentId: row.id }, now);
      return { lamport, accepted: verdict.kind === "accept", violation };
    });
  }
}
