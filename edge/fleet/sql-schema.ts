import type { SqlDatabase } from "./sql-database.js";

/**
 * The Fleet object's SQLite schema. Every piece of state lives here, so an evicted object rebuilds
 * from these tables alone. Statements are idempotent (IF NOT EXISTS) and run on every wake-up;
 * `schema_version` in `meta` guards future migrations.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
  // Enrollment tokens are stored by SHA-256 of the secret; the secret itself is shown once and dropped.
  `CREATE TABLE IF NOT EXISTS enrollment_tokens (
     id TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL UNIQUE,
     name TEXT,
     max_uses INTEGER NOT NULL,
     uses INTEGER NOT NULL DEFAULT 0,
     require_approval INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     revoked_at INTEGER
   )`,
  `CREATE TABLE IF NOT EXISTS agents (
     id TEXT PRIMARY KEY,
     public_key_x TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     hardware TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
     token_id TEXT NOT NULL,
     enrolled_at INTEGER NOT NULL,
     approved_at INTEGER,
     revoked_at INTEGER,
     connected INTEGER NOT NULL DEFAULT 0,
     online INTEGER NOT NULL DEFAULT 0,
     connected_at INTEGER,
     last_seen_at INTEGER,
     software TEXT,
     next_seq INTEGER NOT NULL DEFAULT 0,
     lamport INTEGER,
     lamport_at INTEGER,
     lamport_arrived_at INTEGER,
     healthy_streak INTEGER NOT NULL DEFAULT 0,
     quarantine_reason TEXT,
     quarantined_at INTEGER,
     drift_reason TEXT,
     drift_streak INTEGER NOT NULL DEFAULT 0,
     drift_excess REAL NOT NULL DEFAULT 0,
     summary_received_at INTEGER,
     summary_tokens REAL,
     summary_tokens_at INTEGER,
     summary_t INTEGER,
     theta REAL,
     omega REAL,
     coherence REAL,
     token_hz REAL,
     agent_log_size INTEGER,
     agent_log_root TEXT
   )`,
  `CREATE TABLE IF NOT EXISTS used_jti (jti TEXT PRIMARY KEY, agent_id TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS used_jti_expiry ON used_jti (expires_at)`,
  `CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL, window_ms INTEGER NOT NULL DEFAULT 60000) WITHOUT ROWID`,
  // Operators' dashboard sessions (session-store.ts): only the SHA-256 of the cookie's id is kept.
  `CREATE TABLE IF NOT EXISTS sessions (
     id_hash TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     revoked_at INTEGER
   ) WITHOUT ROWID`,
  // The global log: perfect-subtree hashes (shared/log NodeStore) and the leaves with their (agent, seq).
  `CREATE TABLE IF NOT EXISTS log_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS log_entries (
     idx INTEGER PRIMARY KEY,
     agent_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     data BLOB NOT NULL,
     appended_at INTEGER NOT NULL,
     UNIQUE (agent_id, seq)
   )`,
  // Global-log entries that are not records (shared/log/log-entry.ts): agent checkpoints and key events.
  `CREATE TABLE IF NOT EXISTS log_other_entries (
     idx INTEGER PRIMARY KEY,
     type TEXT NOT NULL CHECK (type IN ('agent-checkpoint', 'key')),
     agent_id TEXT NOT NULL,
     data BLOB NOT NULL,
     appended_at INTEGER NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS log_other_entries_agent ON log_other_entries (agent_id, type, idx)`,
  `CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  // Events for operators' integrations (webhooks): append-only, written in the same transaction as
  // the change (outbox.ts); `payload` is the event's `data` JSON, `version` its payload version.
  // `delivered_at` is unused (delivery keeps its own cursor), kept so older databases match.
  `CREATE TABLE IF NOT EXISTS outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     delivered_at INTEGER,
     version INTEGER NOT NULL DEFAULT 1
   )`,
  // The dashboard's r history (viewer-history.ts): one (r, psi) a second, the last 10 minutes.
  `CREATE TABLE IF NOT EXISTS viewer_history (ms INTEGER PRIMARY KEY, r REAL NOT NULL, psi REAL NOT NULL)`,
];

/**
 * Columns added after a table was first created: [table, column, type]. Added on wake-up when a
 * database created by an earlier version lacks them (SQLite's ADD COLUMN is cheap and safe).
 */
export const ADDED_COLUMNS: readonly (readonly [string, string, string])[] = [
  ["agents", "summary_tokens", "REAL"],
  ["agents", "summary_tokens_at", "INTEGER"],
  // The causal standing's clock frame and drift hysteresis (shared/causality/peer-standing.ts).
  ["agents", "lamport_arrived_at", "INTEGER"],
  ["agents", "drift_streak", "INTEGER NOT NULL DEFAULT 0"],
  ["agents", "drift_excess", "REAL NOT NULL DEFAULT 0"],
  // The summary bucket's arrival frame and stall credit (shared/causality/summary-admission.ts).
  ["agents", "summary_arrived_at", "INTEGER"],
  ["agents", "summary_lead", "REAL"],
  // Versioned outbox payloads (outbox.ts).
  ["outbox", "version", "INTEGER NOT NULL DEFAULT 1"],
  // Each rate window's own length, so one sweep prunes limits of any window (rate-limit.ts).
  ["rate_limits", "window_ms", "INTEGER NOT NULL DEFAULT 60000"],
];

export function migrateSchema(sql: SqlDatabase): void {
  for (const statement of SCHEMA_SQL) sql.exec(statement);
  for (const [table, column, type] of ADDED_COLUMNS) {
    const present = sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table).toArray().some((row) => row.name === column);
    if (!present) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}
