import { describe, expect, it } from "vitest";
import { hitRateLimit, pruneRateLimits, SIGNIN_FAILURES_ALLOWED, SIGNIN_WINDOW_MS } from "../../edge/fleet/rate-limit.js";
import {
  checkSession,
  LAST_SEEN_RESOLUTION_MS,
  MAX_LIVE_SESSIONS,
  pruneSessions,
  revokeAllSessions,
  revokeSession,
  SESSION_LIFETIME_MS,
  sessionIdHash,
  sessionRowCount,
  judgeSignIn,
  openSession,
} from "../../edge/fleet/session-store.js";
import { migrateSchema } from "../../edge/fleet/sql-schema.js";
import { openFleetDb } from "./fleet-fixture.js";
import type { MemoryFleetStorage } from "../support/sql-js-database.js";

/** A sign-in as the Worker runs it: judged (the failed sign-in limit), then a session opened. */
function signIn(db: MemoryFleetStorage, request: { idHash: string; tokenOk: boolean; client: string }, now: number) {
  const judged = judgeSignIn(db.sql, request, now);
  return judged.ok ? { ok: true as const, value: openSession(db, request.idHash, now) } : judged;
}

const T0 = 1_800_000_000_000;
let counter = 0;
const freshHash = () => sessionIdHash(`session-${counter++}`);

describe("session store", () => {
  it("hashes ids as SHA-256 hex (the known vector)", () => {
    expect(sessionIdHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("a sign-in with the right token opens a session for 12 h; a wrong one opens nothing", () => {
    const db = openFleetDb();
    const idHash = freshHash();
    const opened = signIn(db, { idHash, tokenOk: true, client: "198.51.100.1" }, T0);
    expect(opened).toEqual({ ok: true, value: { session: { idHash, expiresAt: T0 + SESSION_LIFETIME_MS }, ended: [] } });
    expect(checkSession(db.sql, idHash, T0 + 1)).toEqual({ idHash, expiresAt: T0 + SESSION_LIFETIME_MS });
    expect(checkSession(db.sql, idHash, T0 + SESSION_LIFETIME_MS)).toBeNull();
    const refused = signIn(db, { idHash: freshHash(), tokenOk: false, client: "198.51.100.1" }, T0);
    expect(refused.ok ? null : refused.error).toMatchObject({ status: 401, code: "signin_failed" });
    expect(sessionRowCount(db.sql)).toBe(1);
    db.close();
  });

  it("stores only the hash, and a fresh module instance (an evicted object) finds the session in SQLite", () => {
    const db = openFleetDb();
    const idHash = freshHash();
    signIn(db, { idHash, tokenOk: true, client: "c" }, T0);
    const rows = db.sql.exec<{ id_hash: string; created_at: number; expires_at: number; last_seen_at: number; revoked_at: number | null }>(`SELECT * FROM sessions`).toArray();
    expect(rows).toEqual([{ id_hash: idHash, created_at: T0, expires_at: T0 + SESSION_LIFETIME_MS, last_seen_at: T0, revoked_at: null }]);
    // Re-running the schema (every wake-up) keeps it.
    migrateSchema(db.sql);
    expect(checkSession(db.sql, idHash, T0 + 5)).not.toBeNull();
    db.close();
  });

  it("notes last_seen_at at most once a minute", () => {
    const db = openFleetDb();
    const idHash = freshHash();
    signIn(db, { idHash, tokenOk: true, client: "c" }, T0);
    const seen = () => db.sql.exec<{ last_seen_at: number }>(`SELECT last_seen_at FROM sessions`).one().last_seen_at;
    checkSession(db.sql, idHash, T0 + 1000);
    expect(seen()).toBe(T0);
    checkSession(db.sql, idHash, T0 + LAST_SEEN_RESOLUTION_MS);
    expect(seen()).toBe(T0 + LAST_SEEN_RESOLUTION_MS);
    db.close();
  });

  it("the 11th failed sign-in from one address is 429 with the wait, whatever the token; other addresses are not affected; the window ends", () => {
    const db = openFleetDb();
    for (let i = 0; i < SIGNIN_FAILURES_ALLOWED; i++) {
      const outcome = signIn(db, { idHash: freshHash(), tokenOk: false, client: "203.0.113.9" }, T0 + i);
      expect(outcome.ok ? null : outcome.error.code).toBe("signin_failed");
    }
    for (const tokenOk of [false, true]) {
      const limited = signIn(db, { idHash: freshHash(), tokenOk, client: "203.0.113.9" }, T0 + 60_000);
      expect(limited.ok ? null : limited.error).toMatchObject({ status: 429, code: "signin_rate_limited", details: { limit: 10, retryAfterSeconds: (SIGNIN_WINDOW_MS - 60_000) / 1000 } });
    }
    expect(signIn(db, { idHash: freshHash(), tokenOk: true, client: "203.0.113.10" }, T0 + 60_000).ok).toBe(true);
    // A pruning sweep before the window ends keeps the count; after it, the address may try again.
    pruneRateLimits(db.sql, T0 + SIGNIN_WINDOW_MS - 1);
    expect(signIn(db, { idHash: freshHash(), tokenOk: true, client: "203.0.113.9" }, T0 + SIGNIN_WINDOW_MS - 1).ok).toBe(false);
    pruneRateLimits(db.sql, T0 + SIGNIN_WINDOW_MS);
    expect(db.sql.exec(`SELECT key FROM rate_limits WHERE key LIKE 'signin:%'`).toArray()).toEqual([]);
    expect(signIn(db, { idHash: freshHash(), tokenOk: true, client: "203.0.113.9" }, T0 + SIGNIN_WINDOW_MS).ok).toBe(true);
    db.close();
  });

  it("rate windows of different lengths are pruned each at its own end", () => {
    const db = openFleetDb();
    hitRateLimit(db.sql, "enroll:a", 30, 60_000, T0);
    hitRateLimit(db.sql, "signin:a", 10, SIGNIN_WINDOW_MS, T0);
    pruneRateLimits(db.sql, T0 + 60_000);
    expect(db.sql.exec<{ key: string }>(`SELECT key FROM rate_limits`).toArray().map((r) => r.key)).toEqual(["signin:a"]);
    db.close();
  });

  it("at most 100 live sessions: the 101st sign-in ends the oldest, and the table stays bounded", () => {
    const db = openFleetDb();
    const hashes: string[] = [];
    for (let i = 0; i < MAX_LIVE_SESSIONS; i++) {
      const idHash = freshHash();
      hashes.push(idHash);
      expect(signIn(db, { idHash, tokenOk: true, client: "c" }, T0 + i)).toMatchObject({ ok: true, value: { ended: [] } });
    }
    const extra = freshHash();
    expect(signIn(db, { idHash: extra, tokenOk: true, client: "c" }, T0 + 500)).toMatchObject({ ok: true, value: { ended: [hashes[0]] } });
    expect(checkSession(db.sql, hashes[0]!, T0 + 501)).toBeNull();
    expect(checkSession(db.sql, hashes[1]!, T0 + 501)).not.toBeNull();
    // Many more sign-ins: each drops ended rows first, so the table never passes 101 rows.
    for (let i = 0; i < 300; i++) signIn(db, { idHash: freshHash(), tokenOk: true, client: "c" }, T0 + 1000 + i);
    expect(sessionRowCount(db.sql)).toBeLessThanOrEqual(MAX_LIVE_SESSIONS + 1);
    db.close();
  });

  it("sign-out revokes one session; revoke-all ends every live one; the sweep forgets ended rows", () => {
    const db = openFleetDb();
    const [a, b, c] = [freshHash(), freshHash(), freshHash()];
    for (const idHash of [a, b, c]) signIn(db, { idHash, tokenOk: true, client: "c" }, T0);
    expect(revokeSession(db.sql, a, T0 + 1)).toBe(true);
    expect(revokeSession(db.sql, a, T0 + 2)).toBe(false);
    expect(checkSession(db.sql, a, T0 + 2)).toBeNull();
    expect(checkSession(db.sql, b, T0 + 2)).not.toBeNull();
    expect(revokeAllSessions(db.sql, T0 + 3).sort()).toEqual([b, c].sort());
    expect(checkSession(db.sql, b, T0 + 4)).toBeNull();
    expect(sessionRowCount(db.sql)).toBe(3);
    pruneSessions(db.sql, T0 + 5);
    expect(sessionRowCount(db.sql)).toBe(0);
    // Expired rows go too.
    signIn(db, { idHash: freshHash(), tokenOk: true, client: "c" }, T0);
    pruneSessions(db.sql, T0 + SESSION_LIFETIME_MS - 1);
    expect(sessionRowCount(db.sql)).toBe(1);
    pruneSessions(db.sql, T0 + SESSION_LIFETIME_MS);
    expect(sessionRowCount(db.sql)).toBe(0);
    db.close();
  });
});
