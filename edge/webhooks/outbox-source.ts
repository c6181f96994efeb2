import type { SqlDatabase } from "../fleet/sql-database.js";

/**
 * The fleet's outbox as the dispatcher reads it: rows after a cursor, oldest first. The one place
 * that knows the outbox table's shape (the fleet owns it and writes each row in the transaction of
 * the change it reports).
 */
export interface OutboxEvent {
  readonly id: number;
  readonly kind: string;
  /** The event's `data` as JSON text. */
  readonly payload: string;
  readonly createdAt: number;
}

export function readOutboxEvents(sql: SqlDatabase, afterId: number, limit: number): OutboxEvent[] {
  return sql
    .exec<{ id: number; kind: string; payload: string; created_at: number }>(
      `SELECT id, kind, payload, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?`,
      afterId,
      limit,
    )
    .toArray()
    .map((row) => ({ id: row.id, kind: row.kind, payload: row.payload, createdAt: row.created_at }));
}

/** The newest outbox id (0 when empty). */
export function lastOutboxId(sql: SqlDatabase): number {
  return sql.exec<{ id: number | null }>(`SELECT MAX(id) AS id FROM outbox`).one().id ?? 0;
}
