import type { SqlDatabase } from "../fleet/sql-database.js";
import type { MessageStatus, MessageView } from "../../shared/webhooks/index.js";

/**
 * Messages: one row per (endpoint, event) with the body fixed at creation and a stable `msg_…` id.
 * States: pending (next_attempt_at) → delivering (lease_until) → succeeded | failed | pending again.
 */
export interface MessageRow {
  seq: number;
  id: string;
  endpoint_id: string;
  event_type: string;
  outbox_id: number | null;
  body: string;
  created_at: number;
  status: MessageStatus;
  attempts: number;
  round_attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  finished_at: number | null;
  [column: string]: string | number | null;
}

/** Finished messages kept per endpoint (for the log and replay); older finished ones are dropped. */
export const MAX_MESSAGES_PER_ENDPOINT = 10_000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function messageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    createdAt: iso(row.created_at)!,
    nextAttemptAt: row.status === "pending" ? iso(row.next_attempt_at) : null,
    lastAttemptAt: iso(row.last_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    body: row.body,
  };
}

export interface NewMessage {
  readonly id: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly outboxId: number | null;
  readonly body: string;
}

/** Inserts a pending message due at `now`; an (endpoint, outbox row) pair already present is kept. */
export function insertMessage(sql: SqlDatabase, message: NewMessage, now: number): void {
  sql.exec(
    `INSERT INTO webhook_messages (id, endpoint_id, event_type, outbox_id, body, created_at, status, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (endpoint_id, outbox_id) DO NOTHING`,
    message.id,
    message.endpointId,
    message.eventType,
    message.outboxId,
    message.body,
    now,
    now,
  );
}

/** Drops the oldest finished messages beyond the per-endpoint bound. */
export function pruneMessages(sql: SqlDatabase, endpointId: string, keep: number = MAX_MESSAGES_PER_ENDPOINT): void {
  const cutoff = sql
    .exec<{ seq: number }>(`SELECT seq FROM webhook_messages WHERE endpoint_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`, endpointId, keep)
    .toArray()[0];
  if (cutoff === undefined) return;
  sql.exec(`DELETE FROM webhook_messages WHERE endpoint_id = ? AND seq <= ? AND status IN ('succeeded', 'failed')`, endpointId, cutoff.seq);
}

export function getMessage(sql: SqlDatabase, endpointId: string, id: string): MessageRow | null {
  return sql.exec<MessageRow>(`SELECT * FROM webhook_messages WHERE endpoint_id = ? AND id = ?`, endpointId, id).toArray()[0] ?? null;
}

export function listMessages(sql: SqlDatabase, endpointId: string, before: number | null, limit: number): MessageRow[] {
  return sql
    .exec<MessageRow>(`SELECT * FROM webhook_messages WHERE endpoint_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, endpointId, before ?? Number.MAX_SAFE_INTEGER, limit)
    .toArray();
}

/**
 * Messages due at `now` for enabled endpoints: pending ones whose time came, and interrupted
 * attempts (still 'delivering' after their lease). Oldest due first.
 */
export function dueMessages(sql: SqlDatabase, now: number, limit: number): MessageRow[] {
  if (limit <= 0) return [];
  return sql
    .exec<MessageRow>(
      `SELECT m.* FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id
       WHERE e.enabled = 1 AND ((m.status = 'pending' AND m.next_attempt_at <= ?) OR (m.status = 'delivering' AND m.lease_until <= ?))
       ORDER BY COALESCE(m.next_attempt_at, m.lease_until), m.seq LIMIT ?`,
      now,
      now,
      limit,
    )
    .toArray();
}

/** The earliest instant a message of an enabled endpoint becomes due, or null. */
export function nextMessageDueAt(sql: SqlDatabase): number | null {
  const row = sql
    .exec<{ at: number | null }>(
      `SELECT MIN(CASE m.status WHEN 'pending' THEN m.next_attempt_at ELSE m.lease_until END) AS at
       FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id
       WHERE e.enabled = 1 AND m.status IN ('pending', 'delivering')`,
    )
    .one();
  return row.at;
}

/**
 * Marks an attempt in flight (durably, before the request leaves). Returns the lease: the answer is
 * stored only while the row still holds it, so a late answer to an attempt already given up on (its
 * lease expired and another attempt started) cannot overwrite the newer state.
 */
export function leaseMessage(sql: SqlDatabase, id: string, now: number, leaseMs: number): number {
  sql.exec(
    `UPDATE webhook_messages SET status = 'delivering', lease_until = ?, attempts = attempts + 1, round_attempts = round_attempts + 1,
       last_attempt_at = ? WHERE id = ?`,
    now + leaseMs,
    now,
    id,
  );
  return now + leaseMs;
}

export interface AttemptRecord {
  readonly statusCode: number | null;
  readonly error: string | null;
}

/** True while the message is in flight under `lease`. */
export function holdsLease(sql: SqlDatabase, id: string, lease: number): boolean {
  return sql.exec(`SELECT 1 AS held FROM webhook_messages WHERE id = ? AND status = 'delivering' AND lease_until = ?`, id, lease).toArray().length === 1;
}

export function finishMessage(sql: SqlDatabase, id: string, status: "succeeded" | "failed", attempt: AttemptRecord, now: number): void {
  sql.exec(
    `UPDATE webhook_messages SET status = ?, next_attempt_at = NULL, lease_until = NULL, last_status_code = ?, last_error = ?, finished_at = ? WHERE id = ?`,
    status,
    attempt.statusCode,
    attempt.error,
    now,
    id,
  );
}

export function rescheduleMessage(sql: SqlDatabase, id: string, nextAttemptAt: number, attempt: AttemptRecord): void {
  sql.exec(
    `UPDATE webhook_messages SET status = 'pending', next_attempt_at = ?, lease_until = NULL, last_status_code = ?, last_error = ? WHERE id = ?`,
    nextAttemptAt,
    attempt.statusCode,
    attempt.error,
    id,
  );
}

/** A new round on the schedule for a finished message (manual replay); same id, same body. */
export function replayMessage(sql: SqlDatabase, id: string, now: number): void {
  sql.exec(
    `UPDATE webhook_messages SET status = 'pending', round_attempts = 0, next_attempt_at = ?, lease_until = NULL, finished_at = NULL
     WHERE id = ? AND status IN ('succeeded', 'failed')`,
    now,
    id,
  );
}

/** Replays an endpoint's finished messages created at or after `since`, at most `limit`; returns how many. */
export function replaySince(sql: SqlDatabase, endpointId: string, since: number, now: number, limit: number): number {
  const ids = sql
    .exec<{ id: string }>(
      `SELECT id FROM webhook_messages WHERE endpoint_id = ? AND created_at >= ? AND status IN ('succeeded', 'failed') ORDER BY seq LIMIT ?`,
      endpointId,
      since,
      limit,
    )
    .toArray();
  for (const { id } of ids) replayMessage(sql, id, now);
  return ids.length;
}
