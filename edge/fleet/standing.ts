import { absorbClock, assessPeerClock, CAUSAL_RULES, DEFAULT_STANDING_RULES, type ClockMessageKind, type StandingUpdate } from "../../shared/causality/index.js";
import { LIMITS, type FleetConfig } from "../../shared/protocol/index.js";
import type { FleetClock } from "./fleet-clock.js";
import { appendOutbox, type OutboxData, type OutboxKind } from "./outbox.js";
import { peerStandingOf, storePeerStanding } from "./peer-standing-store.js";
import type { AgentRows } from "./agent-rows.js";
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

/**
 * The quarantine of an agent whose signed checkpoint contradicts the records the edge holds for it
 * (agent-checkpoints.ts). Sticky: unlike a clock violation, no streak of good messages lifts it —
 * the agent has signed two histories, and only an operator (revoking it) ends that.
 */
export const AGENT_LOG_INCONSISTENT = "agent log inconsistent";

const STICKY_QUARANTINES: ReadonlySet<string> = new Set([AGENT_LOG_INCONSISTENT]);

/** A clock's update with a sticky quarantine kept: never lifted, never replaced by a clock reason, no clock absorbed. */
function keepSticky(update: StandingUpdate, reason: string): StandingUpdate {
  const standing = { ...update.standing, quarantine: reason };
  const verdict = update.verdict.kind === "accept" ? { kind: "accept" as const, lifted: false, absorbStep: null } : update.verdict;
  return { ...update, standing, verdict };
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
  readonly #rows: AgentRows;
  readonly #clock: FleetClock;

  constructor(storage: FleetStorage, rows: AgentRows, clock: FleetClock) {
    this.#storage = storage;
    this.#rows = rows;
    this.#clock = clock;
  }

  receiveClock(agent: Pick<AgentRow, "id">, message: ClockReading, config: FleetConfig, now: number): ClockOutcome {
    const row = this.#rows.get(agent.id);
    if (row === undefined) throw new Error(`no agent ${agent.id}`);
    const before = peerStandingOf(row);
    // Clamped: a fleet clock written before the protocol maximum existed must not be echoed as is.
    const local = Math.min(this.#clock.value(), LIMITS.lamportMax);
    const assessed = assessPeerClock(
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
    const update = before.quarantine !== null && STICKY_QUARANTINES.has(before.quarantine) ? keepSticky(assessed, before.quarantine) : assessed;
    const verdict = update.verdict;
    const events: [kind: OutboxKind, data: OutboxData][] = [];
    let lamport = local;
    let violation: ClockViolation | null = null;
    if (verdict.kind === "accept") {
      if (verdict.absorbStep !== null) lamport = absorbClock(local, message.lamport, verdict.absorbStep, LIMITS.lamportMax);
      if (verdict.lifted) events.push(["agent.released", { agentId: row.id }]);
    } else {
      if (before.quarantine === null) events.push(["agent.quarantined", { agentId: row.id, reason: verdict.reason }]);
      violation = {
        code: verdict.kind === "replay" ? "lamport_replay" : "lamport_jump",
        message: verdict.reason,
        details: { lamport: message.lamport, excess: Math.round(verdict.excess), bound: verdict.bound },
      };
    }
    if (update.drift === "flagged") events.push(["agent.quarantined", { agentId: row.id, reason: `causal drift: ${update.standing.drift}` }]);
    if (update.drift === "cleared") events.push(["agent.released", { agentId: row.id }]);
    // The common case (accepted, standing unchanged) stays in memory; a change of weight is written
    // with its events in one transaction.
    const store = (): void => {
      storePeerStanding(this.#rows, row, update.standing, now);
      if (lamport !== local) this.#clock.set(lamport);
      for (const [kind, data] of events) appendOutbox(this.#storage.sql, kind, data, now);
    };
    if (events.length === 0) store();
    else this.#storage.transaction(store);
    return { lamport, accepted: verdict.kind === "accept", violation };
  }

  /**
   * Quarantines the agent with a sticky `reason` (AGENT_LOG_INCONSISTENT) and announces it with
   * `agent.quarantined`, unless it already stands quarantined for it. Call inside the transaction
   * that records why. Returns whether the standing changed.
   */
  quarantineSticky(agentId: string, reason: string, now: number): boolean {
    if (!STICKY_QUARANTINES.has(reason)) throw new Error(`not a sticky quarantine: ${reason}`);
    const row = this.#rows.get(agentId);
    if (row === undefined || row.quarantine_reason === reason) return false;
    this.#rows.write(agentId, { quarantine_reason: reason, healthy_streak: 0, quarantined_at: row.quarantined_at ?? now });
    appendOutbox(this.#storage.sql, "agent.quarantined", { agentId, reason }, now);
    return true;
  }
}
