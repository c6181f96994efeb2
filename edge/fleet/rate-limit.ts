import { failure, type Outcome } from "../http/api-error.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * Fixed-window counters in SQLite (`rate_limits`), so limits survive eviction and restarts.
 * One row per key; a window resets when it has passed. Each row keeps its own window length, so
 * one sweep (`pruneRateLimits`) serves limits of any window.
 */
export interface RateDecision {
  readonly allowed: boolean;
  readonly count: number;
  readonly limit: number;
  readonly retryAfterMs: number;
}

/** The live window of `key` (null when none or it has passed). */
function liveWindow(sql: SqlDatabase, key: string, windowMs: number, now: number): { window_start: number; count: number } | null {
  const row = sql
    .exec<{ window_start: number; count: number }>(`SELECT window_start, count FROM rate_limits WHERE key = ?`, key)
    .toArray()[0];
  return row === undefined || now - row.window_start >= windowMs ? null : row;
}

export function hitRateLimit(sql: SqlDatabase, key: string, limit: number, windowMs: number, now: number): RateDecision {
  const row = liveWindow(sql, key, windowMs, now);
  const windowStart = row === null ? now : row.window_start;
  const count = row === null ? 1 : row.count + 1;
  sql.exec(
    `INSERT INTO rate_limits (key, window_start, count, window_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count, window_ms = excluded.window_ms`,
    key,
    windowStart,
    count,
    windowMs,
  );
  return { allowed: count <= limit, count, limit, retryAfterMs: Math.max(0, windowStart + windowMs - now) };
}

/** Whether `key` has used up `limit` in its window, without counting anything. */
export function peekRateLimit(sql: SqlDatabase, key: string, limit: number, windowMs: number, now: number): RateDecision {
  const row = liveWindow(sql, key, windowMs, now);
  const count = row?.count ?? 0;
  return { allowed: count < limit, count, limit, retryAfterMs: row === null ? 0 : Math.max(0, row.window_start + windowMs - now) };
}

/** Drops windows that ended, so the table does not grow with every client ever seen. */
export function pruneRateLimits(sql: SqlDatabase, now: number): void {
  sql.exec(`DELETE FROM rate_limits WHERE window_start + window_ms <= ?`, now);
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

/** Failed sign-ins allowed per client address per window before every sign-in from it is refused. */
export const SIGNIN_FAILURES_ALLOWED = 10;
export const SIGNIN_WINDOW_MS = 10 * 60_000;

const signinKey = (client: string) => `signin:${client}`;

/**
 * The 429 refusal when `client` has failed SIGNIN_FAILURES_ALLOWED sign-ins in this window, else
 * null. Checked before the token is, so a client past the limit learns nothing about its guesses.
 */
export function signinRateRefusal(sql: SqlDatabase, client: string, now: number): Outcome<never> | null {
  const decision = peekRateLimit(sql, signinKey(client), SIGNIN_FAILURES_ALLOWED, SIGNIN_WINDOW_MS, now);
  if (decision.allowed) return null;
  return failure(429, "signin_rate_limited", `too many failed sign-ins from this address: ${decision.count} in ${SIGNIN_WINDOW_MS / 60_000} minutes`, {
    limit: SIGNIN_FAILURES_ALLOWED,
    retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
  });
}

/** Counts one failed sign-in from `client`. */
export function countFailedSignin(sql: SqlDatabase, client: string, now: number): void {
  hitRateLimit(sql, signinKey(client), SIGNIN_FAILURES_ALLOWED, SIGNIN_WINDOW_MS, now);
}
