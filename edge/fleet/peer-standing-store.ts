import type { PeerStanding } from "../../shared/causality/index.js";
import type { AgentPatch, AgentRows } from "./agent-rows.js";
import type { AgentRow } from "./registry.js";

/**
 * An agent's causal standing (shared/causality's PeerStanding) in its `agents` row: the rules are
 * pure; this is only where their state lives between messages.
 */
type StandingColumns = Pick<
  AgentRow,
  "lamport" | "lamport_at" | "lamport_arrived_at" | "quarantine_reason" | "healthy_streak" | "drift_reason" | "drift_streak" | "drift_excess"
>;

export function peerStandingOf(row: StandingColumns): PeerStanding {
  return {
    lamport: row.lamport,
    at: row.lamport_at,
    arrivedAt: row.lamport_arrived_at,
    quarantine: row.quarantine_reason,
    healthyStreak: row.healthy_streak,
    drift: row.drift_reason,
    driftStreak: row.drift_streak,
    driftExcess: row.drift_excess,
  };
}

/**
 * Stores the standing. A change of weight (quarantine or drift flag set or lifted) is written now,
 * with `quarantined_at` set when the agent first loses its weight and cleared when it regains it;
 * the clock baseline alone is staged (agent-rows.ts): a replay within one flush of an eviction is
 * judged against a baseline up to a second old.
 */
export function storePeerStanding(rows: AgentRows, before: AgentRow, standing: PeerStanding, now: number): void {
  const patch: AgentPatch = {
    lamport: standing.lamport,
    lamport_at: standing.at,
    lamport_arrived_at: standing.arrivedAt,
    healthy_streak: standing.healthyStreak,
    quarantine_reason: standing.quarantine,
    drift_reason: standing.drift,
    drift_streak: standing.driftStreak,
    drift_excess: standing.driftExcess,
  };
  const weightless = standing.quarantine !== null || standing.drift !== null;
  if (standing.quarantine === before.quarantine_reason && standing.drift === before.drift_reason) {
    rows.stage(before.id, patch);
    return;
  }
  rows.write(before.id, { ...patch, quarantined_at: weightless ? (before.quarantined_at ?? now) : null });
}
