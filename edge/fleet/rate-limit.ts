import type { SqlDatabase } from "./sql-database.js";

/**
 * Fixed-window counters in SQLite (`rate_limits`), so limits survive eviction and restarts.
 * One row per key; a window resets when it has passed.
 */
export interface RateDecision {
  readonly allowed: boolean;
  readonly count: number;
  readonly limit: number;
  readonly retryAfterMs: number;
}

export function hitRateLimit(sql: SqlDatabase, key: string, limit: number, windowMs: number, now: number): RateDecision {
  const row = sql
    .exec<{ window_start: number; count: number }>(`SELECT window_start, count FROM rate_limits WHERE key = ?`, key)
    .toArray()[0];
  const fresh = row === undefined || now - row.window_start >= windowMs;
  const windowStart = fresh ? now : row.window_start;
  const count = fresh ? 1 : row.count + 1;
  sql.exec(
    `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`,
    key,
    windowStart,
    count,
  );
  return { allowed: count <= limit, count, limit, retryAfterMs: Math.max(0, windowStart + windowMs - now) };
}

/** Drops windows that ended, so the table does not grow with every client ever seen. */
export function pruneRateLimits(sql: SqlDatabase, windowMs: number, now: number): void {
  sql.exec(`DELETE FROM rate_limits WHERE window_start <= ?`, now - windowMs);
}
