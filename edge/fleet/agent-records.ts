import { entryJson, type EntryJson } from "./global-log.js";
import type { SqlDatabase } from "./sql-database.js";

/** Largest page of an agent's records. */
export const AGENT_RECORDS_MAX = 100;
export const AGENT_RECORDS_DEFAULT = 20;

export interface AgentRecordView {
  readonly index: number;
  readonly seq: number;
  readonly kind: string;
  /** The payload's own `lamport` when it carries one (records have no clock field), else null. */
  readonly lamport: number | null;
  /** The record's timestamp, ISO 8601 UTC. */
  readonly t: string;
  readonly entry: EntryJson;
}

export interface AgentRecordsPage {
  readonly records: AgentRecordView[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

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
