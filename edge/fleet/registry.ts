import { agentIdForKey } from "../../shared/log/agent-id.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { AgentStatus, IssuedToken, TokenView } from "../../shared/api/index.js";
import { base64UrlToBytes, bytesToBase64Url } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import { appendKeyEvent, inKeyTransaction, type KeyLog } from "./key-history.js";
import { appendOutbox } from "./outbox.js";
import type { AgentRows } from "./agent-rows.js";
import type { FleetStorage, SqlDatabase, SqlValue } from "./sql-database.js";

import { consumeJti } from "./jti-store.js";

export { consumeJti };
// Answer shapes, declared once in shared/api (the dashboard reads them too).
export type { AgentStatus, IssuedToken, TokenView };

/**
 * Enrollment tokens and the agent registry, over the Fleet object's SQLite. Plain functions of the
 * storage and the time, so tests drive them in Node (sql.js) and in workerd alike. Every change an
 * integration hears about (enrolled, approved, revoked) is written with its outbox event and its key
 * entry in the global log (key-history.ts) in one transaction.
 */

export interface TokenSpec {
  readonly name?: string | undefined;
  readonly maxUses: number;
  readonly expiresInSeconds: number;
  readonly requireApproval: boolean;
}

interface TokenRow extends Record<string, SqlValue> {
  id: string;
  name: string | null;
  max_uses: number;
  uses: number;
  require_approval: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface AgentRow extends Record<string, SqlValue> {
  id: string;
  public_key_x: string;
  name: string;
  hardware: string | null;
  status: AgentStatus;
  token_id: string;
  enrolled_at: number;
  approved_at: number | null;
  revoked_at: number | null;
  connected: number;
  online: number;
  connected_at: number | null;
  last_seen_at: number | null;
  software: string | null;
  next_seq: number;
  lamport: number | null;
  lamport_at: number | null;
  lamport_arrived_at: number | null;
  healthy_streak: number;
  quarantine_reason: string | null;
  quarantined_at: number | null;
  drift_reason: string | null;
  drift_streak: number;
  drift_excess: number;
  summary_received_at: number | null;
  summary_tokens: number | null;
  summary_tokens_at: number | null;
  summary_arrived_at: number | null;
  summary_lead: number | null;
  summary_t: number | null;
  theta: number | null;
  omega: number | null;
  coherence: number | null;
  token_hz: number | null;
  agent_log_size: number | null;
  agent_log_root: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return bytes;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of the token secret, hex: how tokens are looked up without storing them. */
export function tokenHash(token: string): string {
  return hex(sha256(new TextEncoder().encode(token)));
}

export { agentIdForKey };

export function issueToken(sql: SqlDatabase, spec: TokenSpec, now: number): IssuedToken {
  const id = `tok_${hex(randomBytes(8))}`;
  const token = `bet_${bytesToBase64Url(randomBytes(32))}`;
  const expiresAt = now + spec.expiresInSeconds * 1000;
  sql.exec(
    `INSERT INTO enrollment_tokens (id, token_hash, name, max_uses, uses, require_approval, created_at, expires_at)
     VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
    id,
    tokenHash(token),
    spec.name ?? null,
    spec.maxUses,
    spec.requireApproval ? 1 : 0,
    now,
    expiresAt,
  );
  return {
    id,
    token,
    name: spec.name ?? null,
    expiresAt: new Date(expiresAt).toISOString(),
    maxUses: spec.maxUses,
    requireApproval: spec.requireApproval,
  };
}

function tokenView(row: TokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    maxUses: row.max_uses,
    uses: row.uses,
    requireApproval: row.require_approval === 1,
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at)!,
    revokedAt: iso(row.revoked_at),
  };
}

export function listTokens(sql: SqlDatabase): TokenView[] {
  return sql.exec<TokenRow>(`SELECT * FROM enrollment_tokens ORDER BY created_at, id`).toArray().map(tokenView);
}

/** Revokes a token (kept, so a later use says "revoked" rather than "unknown"). */
export function revokeToken(sql: SqlDatabase, id: string, now: number): Outcome<TokenView> {
  const row = sql.exec<TokenRow>(`SELECT * FROM enrollment_tokens WHERE id = ?`, id).toArray()[0];
  if (row === undefined) return failure(404, "enrollment_token_not_found", `no enrollment token with id ${id}`);
  if (row.revoked_at === null) {
    sql.exec(`UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ?`, now, id);
    row.revoked_at = now;
  }
  return success(tokenView(row));
}

export interface EnrollRequest {
  readonly token: string;
  readonly publicKey: Uint8Array;
  readonly publicKeyX: string;
  readonly name: string;
  readonly hardware?: string | undefined;
}

export interface Enrolled {
  readonly agentId: string;
  readonly status: "active" | "pending";
}

/**
 * Redeems an enrollment token for a new agent. Checks in this order, each refusal changing nothing:
 * unknown token 401, revoked / expired / used up 410, key already enrolled 409.
 */
export function enrollAgent(sql: SqlDatabase, request: EnrollRequest, now: number): Outcome<Enrolled> {
  const row = sql.exec<TokenRow>(`SELECT * FROM enrollment_tokens WHERE token_hash = ?`, tokenHash(request.token)).toArray()[0];
  if (row === undefined) return failure(401, "enrollment_token_unknown", "the enrollment token is not known to this fleet");
  if (row.revoked_at !== null) {
    return failure(410, "enrollment_token_revoked", `enrollment token ${row.id} was revoked at ${iso(row.revoked_at)}`);
  }
  if (now >= row.expires_at) {
    return failure(410, "enrollment_token_expired", `enrollment token ${row.id} expired at ${iso(row.expires_at)}`, {
      expiresAt: iso(row.expires_at),
    });
  }
  if (row.uses >= row.max_uses) {
    return failure(410, "enrollment_token_used_up", `enrollment token ${row.id} has been used ${row.uses} of ${row.max_uses} times`, {
      uses: row.uses,
      maxUses: row.max_uses,
    });
  }
  const agentId = agentIdForKey(request.publicKey);
  const existing = sql.exec<{ id: string }>(`SELECT id FROM agents WHERE public_key_x = ? OR id = ?`, request.publicKeyX, agentId).toArray()[0];
  if (existing !== undefined) {
    return failure(409, "key_already_enrolled", `this public key is already enrolled as agent ${existing.id}`, { agentId: existing.id });
  }
  const status = row.require_approval === 1 ? "pending" : "active";
  sql.exec(`UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ?`, row.id);
  sql.exec(
    `INSERT INTO agents (id, public_key_x, name, hardware, status, token_id, enrolled_at, approved_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    agentId,
    request.publicKeyX,
    request.name,
    request.hardware ?? null,
    status,
    row.id,
    now,
    status === "active" ? now : null,
  );
  return success({ agentId, status });
}

/**
 * `enrollAgent`, its `agent.enrolled` event and its key entries in one transaction: `enrolled`, and
 * `approved` too when the token needs no approval (the agent is active at once), so every key that
 * could ever connect has an `approved` entry — as the backfill of older agents writes it.
 */
export function enroll(storage: FleetStorage, log: KeyLog, request: EnrollRequest, now: number): Outcome<Enrolled> {
  return inKeyTransaction(storage, log, () => {
    const result = enrollAgent(storage.sql, request, now);
    if (!result.ok) return result;
    const { agentId, status } = result.value;
    appendOutbox(storage.sql, "agent.enrolled", { agentId, status, name: request.name }, now);
    appendKeyEvent(storage.sql, log, { event: "enrolled", agentId, publicKey: request.publicKey, timestamp: now }, now);
    if (status === "active") appendKeyEvent(storage.sql, log, { event: "approved", agentId, publicKey: request.publicKey, timestamp: now }, now);
    return result;
  });
}

/** The agent's enrolled key (32 bytes). */
function publicKeyOf(row: AgentRow): Uint8Array {
  return base64UrlToBytes(row.public_key_x);
}

function notFound(agentId: string, fleetId: string): Outcome<never> {
  return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${fleetId}`);
}

/** A pending agent becomes active (an active one stays so); a revoked one cannot be approved (409). */
export function approveAgent(storage: FleetStorage, rows: AgentRows, log: KeyLog, agentId: string, fleetId: string, now: number): Outcome<AgentRow> {
  return inKeyTransaction(storage, log, () => {
    const row = rows.get(agentId);
    if (row === undefined) return notFound(agentId, fleetId);
    if (row.status === "revoked") return failure(409, "agent_revoked", `agent ${agentId} was revoked; a revoked agent cannot be approved`);
    if (row.status === "pending") {
      rows.write(agentId, { status: "active", approved_at: now });
      appendOutbox(storage.sql, "agent.approved", { agentId }, now);
      appendKeyEvent(storage.sql, log, { event: "approved", agentId, publicKey: publicKeyOf(row), timestamp: now }, now);
    }
    return success(rows.get(agentId) ?? row);
  });
}

/** Revokes an agent (for good): no longer connected nor online. The caller closes its sockets. */
export function revokeAgent(storage: FleetStorage, rows: AgentRows, log: KeyLog, agentId: string, fleetId: string, now: number): Outcome<AgentRow> {
  return inKeyTransaction(storage, log, () => {
    const row = rows.get(agentId);
    if (row === undefined) return notFound(agentId, fleetId);
    if (row.status !== "revoked") {
      rows.write(agentId, { status: "revoked", revoked_at: now, connected: 0, online: 0 });
      appendOutbox(storage.sql, "agent.revoked", { agentId }, now);
      appendKeyEvent(storage.sql, log, { event: "revoked", agentId, publicKey: publicKeyOf(row), timestamp: now }, now);
    }
    return success(rows.get(agentId) ?? row);
  });
}

/**
 * What an agent's hello says about itself (software, its own log's head). `head` false keeps the
 * stored head: once the agent has an accepted signed checkpoint, that is its head, not hello's word.
 */
export function recordHello(
  rows: AgentRows,
  agentId: string,
  hello: { readonly software?: string | undefined; readonly agentLog?: { readonly size: number; readonly root: string } | undefined },
  options: { readonly head: boolean } = { head: true },
): void {
  if (!options.head) return rows.write(agentId, { software: hello.software ?? null });
  rows.write(agentId, { software: hello.software ?? null, agent_log_size: hello.agentLog?.size ?? null, agent_log_root: hello.agentLog?.root ?? null });
}

/** The agent's resume point: the next record seq the edge expects (durable before its ack). */
export function setNextSeq(rows: AgentRows, agentId: string, nextSeq: number): void {
  rows.write(agentId, { next_seq: nextSeq });
}

/**
 * Whether an upgrade the Worker authenticated may open a socket: the agent is (still) active and the
 * JWT id was not used before (it is recorded now). Re-checked here: the agent may have been revoked
 * between the Worker's check and now.
 */
export function admitConnection(sql: SqlDatabase, rows: AgentRows, agentId: string, jti: string, jtiExpiresAt: number, now: number): Outcome<AgentRow> {
  const row = rows.get(agentId);
  if (row === undefined) return failure(401, "agent_unknown", `no agent ${agentId} is enrolled in this fleet`);
  if (row.status === "revoked") return failure(401, "agent_revoked", `agent ${agentId} has been revoked`);
  if (row.status !== "active") return failure(401, "agent_pending", `agent ${agentId} awaits an operator's approval`);
  if (!consumeJti(sql, jti, agentId, jtiExpiresAt, now)) return failure(401, "jwt_replayed", "this JWT id (jti) was already used; sign a fresh token");
  return success(row);
}

export function getAgentRow(sql: SqlDatabase, agentId: string): AgentRow | undefined {
  return sql.exec<AgentRow>(`SELECT * FROM agents WHERE id = ?`, agentId).toArray()[0];
}

export function listAgentRows(sql: SqlDatabase): AgentRow[] {
  return sql.exec<AgentRow>(`SELECT * FROM agents ORDER BY enrolled_at, id`).toArray();
}

/** Why the agent has weight 0 (a hard quarantine first, then a drift flag), or null in good standing. */
export function standingReason(row: Pick<AgentRow, "quarantine_reason" | "drift_reason">): string | null {
  return row.quarantine_reason ?? (row.drift_reason === null ? null : `causal drift: ${row.drift_reason}`);
}
