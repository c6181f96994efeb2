import type { SqlDatabase } from "./sql-database.js";

/** Single-use JWT ids (`used_jti`): a connect token's id is remembered until the token expires. */

/** True if `jti` was unused (and is now recorded until it expires), false on reuse. */
export function consumeJti(sql: SqlDatabase, jti: string, agentId: string, expiresAt: number, now: number): boolean {
  sql.exec(`DELETE FROM used_jti WHERE expires_at < ?`, now);
  const seen = sql.exec<{ jti: string }>(`SELECT jti FROM used_jti WHERE jti = ?`, jti).toArray()[0];
  if (seen !== undefined) return false;
  sql.exec(`INSERT INTO used_jti (jti, agent_id, expires_at) VALUES (?, ?, ?)`, jti, agentId, expiresAt);
  return true;
}

/** Forgets ids whose tokens have expired (a replay of those fails the JWT's own expiry check). */
export function pruneJti(sql: SqlDatabase, now: number): void {
  sql.exec(`DELETE FROM used_jti WHERE expires_at < ?`, now);
}
