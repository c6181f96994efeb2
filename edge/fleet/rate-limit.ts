import { failure, type Outcome } from "../http/api-error.js";
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

/** Enrollment attempts per client address per minute unless ENROLL_RATE_PER_MINUTE says otherwise. */
export const DEFAULT_ENROLL_RATE_PER_MINUTE = 30;

/**
 * Counts one enrollment attempt from `client`; the 429 refusal when over the limit, else null.
 * `configured` is ENROLL_RATE_PER_MINUTE (a positive number, or the default is used).
 */
export function enrollmentRateRefusal(sql: SqlDatabase, client: string, configured: string | undefined, now: number): Outcome<never> | null {
  const wanted = Number(configured ?? DEFAULT_ENROLL_RATE_PER_MINUTE);
  const limit = Number.isFinite(wanted) && wanted > 0 ? wanted : DEFAULT_ENROLL_RATE_PER_MINUTE;
  const decision = hitRateLimit(sql, `enroll:${client}`, limit, 60_000, now);
  if (decision.allowed) return null;
  return failure(429, "rate_limited", `too many enrollment attempts: ${decision.count} in this minute, limit ${decision.limit}`, {
    limit: decision.limit,
    retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000),
  });
}
