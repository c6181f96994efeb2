import type { SqlDatabase } from "./sql-database.js";

/**
 * The fleet's outbox: an append-only table of events for operators' integrations (webhooks). Every
 * event is appended inside the same transaction as the change it reports, so an event exists if and
 * only if its change does. Delivery is not done here: readers keep their own cursor (an id) and read
 * the rows after it.
 */

/** Version of every payload written today; a reader sees it as the event's `version`. */
export const OUTBOX_VERSION = 1;

export type OutboxKind =
  | "agent.enrolled"
  | "agent.approved"
  | "agent.revoked"
  | "agent.online"
  | "agent.offline"
  | "agent.quarantined"
  | "agent.released"
  | "fleet.config"
  | "checkpoint.published"
  | "sync.collapse"
  | "mesh.locked"
  | "mesh.unlocked"
  | "log.inconsistency"
  | "agent.log_inconsistent";

/** A JSON value as an event's data holds it (records' payloads and agents' evidence nest). */
export type OutboxValue = string | number | boolean | null | readonly OutboxValue[] | { readonly [key: string]: OutboxValue };

export type OutboxData = Readonly<Record<string, OutboxValue>>;

export interface OutboxEvent {
  readonly id: number;
  readonly kind: string;
  readonly version: number;
  /** The event's `data`, parsed from the stored JSON. */
  readonly data: OutboxData;
  readonly createdAt: number;
}

/** Appends one event. Call inside the transaction that makes the change it reports. */
export function appendOutbox(sql: SqlDatabase, kind: OutboxKind, data: OutboxData, now: number): void {
  sql.exec(`INSERT INTO outbox (kind, version, payload, created_at) VALUES (?, ?, ?, ?)`, kind, OUTBOX_VERSION, JSON.stringify(data), now);
}

/** Up to `limit` events with id > `afterId`, oldest first. */
export function readOutboxAfter(sql: SqlDatabase, afterId: number, limit: number): OutboxEvent[] {
  return sql
    .exec<{ id: number; kind: string; version: number; payload: string; created_at: number }>(
      `SELECT id, kind, version, payload, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?`,
      afterId,
      Math.max(0, Math.floor(limit)),
    )
    .toArray()
    .map((row) => ({ id: row.id, kind: row.kind, version: row.version, data: JSON.parse(row.payload) as OutboxData, createdAt: row.created_at }));
}
