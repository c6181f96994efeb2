import type { PeerStanding } from "../../shared/causality/index.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * An agent's causal standing (shared/causality's PeerStanding) in its `agents` row: the rules are
 * pure; this is only where their state lives between messages.
 */
type StandingRow = {
  lamport: number | null;
  lamport_at: number | null;
  lamport_arrived_at: number | null;
  quarantine_reason: string | null;
  healthy_streak: number;
  drift_reason: string | null;
  drift_streak: number;
  drift_excess: number;
};

export function readPeerStanding(sql: SqlDatabase, agentId: string): PeerStanding {
  const row = sql
    .exec<StandingRow>(
      `SELECT lamport, lamport_at, lamport_arrived_at, quarantine_reason, healthy_streak, drift_reason, drift_streak, drift_excess
       FROM agents WHERE id = ?`,
      agentId,
    )
    .toArray()[0];
  if (row === undefined) throw new Error(`no agent ${agentId}`);
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

/** Writes the standing; `quarantined_at` is set when the agent first loses its weight, cleared when it regains it. */
export function writePeerStanding(sql: SqlDatabase, agentId: string, standing: PeerStanding, now: number): void {
  const weightless = standing.quarantine !== null || standing.drift !== null;
  sql.exec(
    `UPDATE agents SET lamport = ?, lamport_at = ?, lamport_arrived_at = ?, healthy_streak = ?, quarantine_reason = ?,
       drift_reason = ?, drift_streak = ?, drift_excess = ?,
       quarantined_at = CASE WHEN ? = 1 THEN COALESCE(quarantined_at, ?) ELSE NULL END
     WHERE id = ?`,
    standing.lamport,
    standing.at,
    standing.arrivedAt,
    standing.healthyStreak,
    standing.quarantine,
    standing.drift,
    standing.driftStreak,
    standing.driftExcess,
    weightless ? 1 : 0,
    now,
    agentId,
  );
}
