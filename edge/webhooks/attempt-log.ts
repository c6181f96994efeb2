import type { SqlDatabase } from "../fleet/sql-database.js";
import type { AttemptView } from "../../shared/webhooks/index.js";

/** The delivery log: every attempt per endpoint, the newest MAX_ATTEMPTS_PER_ENDPOINT kept. */
export const MAX_ATTEMPTS_PER_ENDPOINT = 1000;
/** Characters of the receiver's answer kept with an attempt. */
export const RESPONSE_EXCERPT_CHARS = 512;

export interface AttemptEntry {
  readonly endpointId: string;
  readonly messageId: string;
  readonly attempt: number;
  readonly at: number;
  readonly outcome: AttemptView["outcome"];
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  readonly response: string | null;
}

interface AttemptRow {
  id: number;
  message_id: string;
  attempt: number;
  at: number;
  outcome: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response: string | null;
  [column: string]: string | number | null;
}

export function appendAttempt(sql: SqlDatabase, entry: AttemptEntry, keep: number = MAX_ATTEMPTS_PER_ENDPOINT): void {
  sql.exec(
    `INSERT INTO webhook_attempts (endpoint_id, message_id, attempt, at, outcome, status_code, latency_ms, error, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    entry.endpointId,
    entry.messageId,
    entry.attempt,
    entry.at,
    entry.outcome,
    entry.statusCode,
    Math.max(0, Math.round(entry.latencyMs)),
    entry.error === null ? null : entry.error.slice(0, 512),
    entry.response === null ? null : entry.response.slice(0, RESPONSE_EXCERPT_CHARS),
  );
  const cutoff = sql
    .exec<{ id: number }>(`SELECT id FROM webhook_attempts WHERE endpoint_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?`, entry.endpointId, keep)
    .toArray()[0];
  if (cutoff !== undefined) sql.exec(`DELETE FROM webhook_attempts WHERE endpoint_id = ? AND id <= ?`, entry.endpointId, cutoff.id);
}

/** A page of the log, newest first, older than `before` (a seq) when given. */
export function listAttempts(sql: SqlDatabase, endpointId: string, before: number | null, limit: number): AttemptView[] {
  return sql
    .exec<AttemptRow>(`SELECT * FROM webhook_attempts WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, endpointId, before ?? Number.MAX_SAFE_INTEGER, limit)
    .toArray()
    .map((row) => ({
      seq: row.id,
      messageId: row.message_id,
      attempt: row.attempt,
      at: new Date(row.at).toISOString(),
      outcome: row.outcome as AttemptView["outcome"],
      statusCode: row.status_code,
      latencyMs: row.latency_ms,
      error: row.error,
      response: row.response,
    }));
}

export function countAttempts(sql: SqlDatabase, endpointId: string): number {
  return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_attempts WHERE endpoint_id = ?`, endpointId).one().n;
}
