import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import { countFailedSignin, signinRateRefusal } from "./rate-limit.js";
import type { FleetStorage, SqlDatabase } from "./sql-database.js";

/**
 * Operators' dashboard sessions (`sessions`): the browser holds a random id in an HttpOnly cookie,
 * the fleet keeps only its SHA-256, so a copy of the database opens no session. Absolute lifetime,
 * revocable one by one or all at once, at most MAX_LIVE_SESSIONS live per fleet. The table stays
 * bounded: every sign-in first drops ended rows, and the `sessions` sweep does too.
 */

/** A session's absolute lifetime (no sliding renewal: sign in again after it). */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** Live sessions per fleet; the next sign-in ends the oldest. */
export const MAX_LIVE_SESSIONS = 100;
/** `last_seen_at` moves at most this often: every admin request reads the session, few need write. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface LiveSession {
  readonly idHash: string;
  readonly expiresAt: number;
}

/** The stored form of a session id: SHA-256 of its text, lowercase hex. */
export function sessionIdHash(id: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(id)));
}

/** A well-formed stored hash (what the Worker may pass in). */
export const SESSION_HASH = /^[0-9a-f]{64}$/;

/**
 * One sign-in attempt from `client`, judged where the failed sign-in counter lives (the default
 * fleet: the admin token is the deployment's, so guesses are counted once for every fleet). Refused
 * while the client is over its limit (before the token's verdict is used), counted and refused when
 * the token is wrong (`tokenOk`, compared by the Worker in constant time), else allowed.
 */
export function judgeSignIn(sql: SqlDatabase, attempt: { readonly tokenOk: boolean; readonly client: string }, now: number): Outcome<true> {
  const limited = signinRateRefusal(sql, attempt.client, now);
  if (limited !== null) return limited;
  if (!attempt.tokenOk) {
    countFailedSignin(sql, attempt.client, now);
    return failure(401, "signin_failed", "that is not the admin token");
  }
  return success(true);
}

/**
 * Opens a session (the caller has judged the sign-in). `idHash` is SHA-256 hex of the new id: the
 * id itself never reaches the object. `ended` are the sessions the cap ended to make room (their
 * live sockets should close).
 */
export function openSession(storage: FleetStorage, idHash: string, now: number): { session: LiveSession; ended: string[] } {
  return storage.transaction(() => {
    const { sql } = storage;
    pruneSessions(sql, now);
    const expiresAt = now + SESSION_LIFETIME_MS;
    sql.exec(`INSERT INTO sessions (id_hash, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?)`, idHash, now, expiresAt, now);
    const over = sql
      .exec<{ id_hash: string }>(
        `SELECT id_hash FROM sessions WHERE revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id_hash LIMIT -1 OFFSET ?`,
        now,
        MAX_LIVE_SESSIONS,
      )
      .toArray()
      .map((row) => row.id_hash);
    for (const ended of over) sql.exec(`UPDATE sessions SET revoked_at = ? WHERE id_hash = ?`, now, ended);
    return { session: { idHash, expiresAt }, ended: over };
  });
}

/** The session if it is live (known, not revoked, not expired), else null; notes that it was seen. */
export function checkSession(sql: SqlDatabase, idHash: string, now: number): LiveSession | null {
  const row = sql
    .exec<{ expires_at: number; last_seen_at: number; revoked_at: number | null }>(`SELECT expires_at, last_seen_at, revoked_at FROM sessions WHERE id_hash = ?`, idHash)
    .toArray()[0];
  if (row === undefined || row.revoked_at !== null || row.expires_at <= now) return null;
  if (now - row.last_seen_at >= LAST_SEEN_RESOLUTION_MS) sql.exec(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now, idHash);
  return { idHash, expiresAt: row.expires_at };
}

/** Ends one session; true when it was live. */
export function revokeSession(sql: SqlDatabase, idHash: string, now: number): boolean {
  const live = checkSession(sql, idHash, now) !== null;
  if (live) sql.exec(`UPDATE sessions SET revoked_at = ? WHERE id_hash = ?`, now, idHash);
  return live;
}

/** Ends every live session of the fleet; returns their hashes. */
export function revokeAllSessions(sql: SqlDatabase, now: number): string[] {
  const live = sql
    .exec<{ id_hash: string }>(`SELECT id_hash FROM sessions WHERE revoked_at IS NULL AND expires_at > ?`, now)
    .toArray()
    .map((row) => row.id_hash);
  sql.exec(`UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL`, now);
  return live;
}

/** Forgets ended sessions (revoked or expired): a replayed cookie of one is unknown, refused the same way. */
export function pruneSessions(sql: SqlDatabase, now: number): void {
  sql.exec(`DELETE FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= ?`, now);
}

/** Rows in the table (tests: it stays bounded). */
export function sessionRowCount(sql: SqlDatabase): number {
  return sql.exec<{ n: number }>(`SELECT count(*) AS n FROM sessions`).one().n;
}
