import { readOutboxAfter } from "../fleet/outbox.js";
import type { SqlDatabase } from "../fleet/sql-database.js";

/**
 * The fleet's outbox as the dispatcher reads it (edge/fleet/outbox.ts owns the table; each row is
 * written in the transaction of the change it reports): rows after a cursor, oldest first.
 */
export interface OutboxEvent {
  readonly id: number;
  readonly kind: string;
  /** The payload's version, as written. */
  readonly version: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
}

export function readOutboxEvents(sql: SqlDatabase, afterId: number, limit: number): OutboxEvent[] {
  return readOutboxAfter(sql, afterId, limit);
}

/** The newest outbox id (0 when empty). */
export function lastOutboxId(sql: SqlDatabase): number {
  return sql.exec<{ id: number | null }>(`SELECT MAX(id) AS id FROM outbox`).one().id ?? 0;
}
