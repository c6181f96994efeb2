import type { AgentRecordView, AgentRecordsPage } from "../../shared/api/index.js";
import { entryJson } from "./global-log.js";
import type { SqlDatabase } from "./sql-database.js";

/** Largest page of an agent's records. */
export const AGENT_RECORDS_MAX = 100;
export const AGENT_RECORDS_DEFAULT = 20;

// The page's shapes, declared once in shared/api (the dashboard reads them too).
export type { AgentRecordView, AgentRecordsPage };

function payloadLamport(payloadJson: string): number | null {
  try {
    const payload: unknown = JSON.parse(payloadJson);
    const lamport = typeof payload === "object" && payload !== null ? (payload as { lamport?: unknown }).lamport : undefined;
    return typeof lamport === "number" && Number.isSafeInteger(lamport) ? lamport : null;
  } catch {
    return null;
  }
}

/** ISO 8601 UTC; a timestamp outside Date's range (an agent's clock is its own) shows as the epoch. */
function isoTime(ms: number): string {
  return new Date(Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : 0).toISOString();
}

/**
 * One agent's records in the global log, newest first: seq below `before` (all when null), at most
 * `limit` (1..AGENT_RECORDS_MAX). Served by the (agent_id, seq) unique index, so a page costs
 * `limit` rows whatever the log's size.
 */
export function agentRecords(sql: SqlDatabase, agentId: string, before: number | null, limit: number): AgentRecordsPage {
  const take = Math.max(1, Math.min(AGENT_RECORDS_MAX, Math.floor(limit)));
  const rows = sql
    .exec<{ idx: number; agent_id: string; seq: number; data: ArrayBuffer }>(
      `SELECT idx, agent_id, seq, data FROM log_entries WHERE agent_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      agentId,
      before ?? Number.MAX_SAFE_INTEGER,
      take + 1,
    )
    .toArray();
  const page = rows.slice(0, take).map((row) => {
    const entry = entryJson(row);
    return { index: entry.index, seq: entry.seq, kind: entry.record.kind, lamport: payloadLamport(entry.record.payloadJson), t: isoTime(entry.record.timestamp), entry };
  });
  return { records: page, nextBefore: rows.length > take ? page[page.length - 1]!.seq : null };
}
