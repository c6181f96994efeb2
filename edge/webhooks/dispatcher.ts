import type { SqlDatabase } from "../fleet/sql-database.js";
import { eventEnvelope, isEventType } from "../../shared/webhooks/index.js";
import { subscribes, type EndpointRow } from "./endpoint-store.js";
import { newMessageId } from "./ids.js";
import { insertMessage, pruneMessages } from "./message-store.js";
import { lastOutboxId, readOutboxEvents } from "./outbox-source.js";

/**
 * Turns outbox rows into messages: one per enabled endpoint subscribed to the event's type, with
 * the envelope body fixed now. The cursor (webhook_state.outbox_cursor) moves in the same
 * transaction as the inserts, so a crash between them repeats nothing and loses nothing.
 */
export const DISPATCH_BATCH = 200;

export function outboxCursor(sql: SqlDatabase): number {
  return sql.exec<{ value: number }>(`SELECT value FROM webhook_state WHERE key = 'outbox_cursor'`).toArray()[0]?.value ?? 0;
}

export function setOutboxCursor(sql: SqlDatabase, id: number): void {
  sql.exec(`INSERT INTO webhook_state (key, value) VALUES ('outbox_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, id);
}

/** Moves the cursor past every event so far (when the first endpoint is enabled: no backlog from before). */
export function skipOutboxBacklog(sql: SqlDatabase): void {
  setOutboxCursor(sql, Math.max(outboxCursor(sql), lastOutboxId(sql)));
}

/** True when outbox rows wait behind the cursor. */
export function outboxPending(sql: SqlDatabase): boolean {
  return readOutboxEvents(sql, outboxCursor(sql), 1).length > 0;
}

/** Dispatches one batch (call inside a transaction); returns the number of outbox rows consumed. */
export function dispatchOutbox(sql: SqlDatabase, now: number, batch: number = DISPATCH_BATCH): number {
  const events = readOutboxEvents(sql, outboxCursor(sql), batch);
  if (events.length === 0) return 0;
  const endpoints = sql.exec<EndpointRow>(`SELECT * FROM webhook_endpoints WHERE enabled = 1`).toArray();
  const touched = new Set<string>();
  for (const event of events) {
    // Fleet-internal kinds (e.g. fleet.config) are not webhook events.
    if (!isEventType(event.kind) || event.kind === "webhook.test") continue;
    const targets = endpoints.filter((e) => e.created_at <= event.createdAt && subscribes(e, event.kind));
    if (targets.length === 0) continue;
    const body = JSON.stringify(eventEnvelope(event.kind, event.data, event.createdAt, event.version));
    for (const endpoint of targets) {
      insertMessage(sql, { id: newMessageId(), endpointId: endpoint.id, eventType: event.kind, outboxId: event.id, body }, now);
      touched.add(endpoint.id);
    }
  }
  setOutboxCursor(sql, events[events.length - 1]!.id);
  for (const id of touched) pruneMessages(sql, id);
  return events.length;
}
