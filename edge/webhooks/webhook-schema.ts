import type { SqlDatabase } from "../fleet/sql-database.js";

/**
 * The webhook tables in the Fleet object's SQLite (owned by edge/webhooks/ alone). Idempotent; run
 * on every wake-up after the fleet's own schema. Secrets are stored in clear: they are HMAC keys the
 * object must hold to sign (docs/webhooks.md).
 */
export const WEBHOOK_SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS webhook_endpoints (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     description TEXT NOT NULL DEFAULT '',
     event_types TEXT NOT NULL,
     enabled INTEGER NOT NULL,
     disabled_reason TEXT,
     disabled_at INTEGER,
     failing_since INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS webhook_secrets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     endpoint_id TEXT NOT NULL,
     secret TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS webhook_secrets_endpoint ON webhook_secrets (endpoint_id)`,
  // One row per (endpoint, event). The body is fixed when the row is written; each attempt signs it
  // afresh with its own timestamp. `lease_until` marks an attempt in flight: a row still
  // 'delivering' after it passed was interrupted (eviction, restart) and is due again.
  `CREATE TABLE IF NOT EXISTS webhook_messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     endpoint_id TEXT NOT NULL,
     event_type TEXT NOT NULL,
     outbox_id INTEGER,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     round_attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER,
     lease_until INTEGER,
     last_attempt_at INTEGER,
     last_status_code INTEGER,
     last_error TEXT,
     finished_at INTEGER,
     UNIQUE (endpoint_id, outbox_id)
   )`,
  `CREATE INDEX IF NOT EXISTS webhook_messages_pending ON webhook_messages (status, next_attempt_at)`,
  `CREATE INDEX IF NOT EXISTS webhook_messages_endpoint ON webhook_messages (endpoint_id, seq)`,
  `CREATE TABLE IF NOT EXISTS webhook_attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     endpoint_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     at INTEGER NOT NULL,
     outcome TEXT NOT NULL,
     status_code INTEGER,
     latency_ms INTEGER NOT NULL,
     error TEXT,
     response TEXT
   )`,
  `CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id)`,
  `CREATE TABLE IF NOT EXISTS webhook_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`,
];

export function migrateWebhookSchema(sql: SqlDatabase): void {
  for (const statement of WEBHOOK_SCHEMA_SQL) sql.exec(statement);
}
