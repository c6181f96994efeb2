import type { LogReport } from "../../shared/protocol/index.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * Agents' reports that the edge's log failed their audit (`log_report`), turned into
 * `log.inconsistency` events for operators: at most one per agent per LOG_REPORT_INTERVAL_MS, so an
 * agent repeating its report on every connection cannot flood anyone. Its own table (last report per
 * agent), because the shared rate-limit windows are pruned after a minute.
 */
export const LOG_REPORT_INTERVAL_MS = 60 * 60 * 1000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS log_reports (agent_id TEXT PRIMARY KEY, reported_at INTEGER NOT NULL) WITHOUT ROWID`;

/** Records a report; returns true when it became an event, false when the agent reported within the interval. */
export function recordLogReport(storage: FleetStorage, agentId: string, report: LogReport, now: number): boolean {
  return storage.transaction(() => {
    storage.sql.exec(SCHEMA);
    const last = storage.sql.exec<{ reported_at: number }>(`SELECT reported_at FROM log_reports WHERE agent_id = ?`, agentId).toArray()[0];
    if (last !== undefined && now - last.reported_at < LOG_REPORT_INTERVAL_MS && now >= last.reported_at) return false;
    storage.sql.exec(
      `INSERT INTO log_reports (agent_id, reported_at) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET reported_at = excluded.reported_at`,
      agentId,
      now,
    );
    const { kind, reason, evidence } = report;
    appendOutbox(storage.sql, "log.inconsistency", { agentId, kind, reason, evidence: { ...evidence } }, now);
    return true;
  });
}
