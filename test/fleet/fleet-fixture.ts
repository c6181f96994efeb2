import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToBase64Url, type FleetConfig } from "../../shared/protocol/index.js";
import { enroll, issueToken, type AgentRow, getAgentRow } from "../../edge/fleet/registry.js";
import { migrateSchema } from "../../edge/fleet/sql-schema.js";
import { openMemoryStorage, type MemoryFleetStorage } from "../support/sql-js-database.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import type { PeerSocket } from "../../edge/fleet/connection.js";
import { AgentRows } from "../../edge/fleet/agent-rows.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";

/** A fresh fleet database: real SQLite (sql.js) with the Fleet object's schema. */
export function openFleetDb(): MemoryFleetStorage {
  const storage = openMemoryStorage();
  migrateSchema(storage.sql);
  return storage;
}

/** Enrolls an active agent with a random key; returns its row. */
export function addAgent(storage: MemoryFleetStorage, now = 1_000, name = "pi"): AgentRow {
  return addAgentWithKey(storage, now, name).row;
}

/** Enrolls an active agent with a fresh Ed25519 key; returns its row and secret key. */
export function addAgentWithKey(storage: MemoryFleetStorage, now = 1_000, name = "pi"): { row: AgentRow; secretKey: Uint8Array } {
  const secretKey = ed25519.utils.randomSecretKey();
  const token = issueToken(storage.sql, { maxUses: 1, expiresInSeconds: 3600, requireApproval: false }, now);
  const publicKey = ed25519.getPublicKey(secretKey);
  const outcome = enroll(storage, logOf(storage), { token: token.token, publicKey, publicKeyX: bytesToBase64Url(publicKey), name }, now);
  if (!outcome.ok) throw new Error(outcome.error.message);
  return { row: getAgentRow(storage.sql, outcome.value.agentId)!, secretKey };
}

const globalLogs = new WeakMap<MemoryFleetStorage, GlobalLog>();

/**
 * The fleet's global log for this database (one per database, as the Fleet object has one: the
 * registry appends key entries to it, so a second instance would hold a stale tree).
 */
export function logOf(storage: MemoryFleetStorage): GlobalLog {
  let log = globalLogs.get(storage);
  if (log === undefined) globalLogs.set(storage, (log = new GlobalLog(storage.sql)));
  return log;
}

const agentRows = new WeakMap<MemoryFleetStorage, AgentRows>();

/** The fleet's agent-row cache for this database (one per database, as the Fleet object has one). */
export function rowsOf(storage: MemoryFleetStorage): AgentRows {
  let rows = agentRows.get(storage);
  if (rows === undefined) agentRows.set(storage, (rows = new AgentRows(storage.sql)));
  return rows;
}

/** A copy of the agent's row as the fleet sees it (memory over SQLite). */
export function row(storage: MemoryFleetStorage, agentId: string): AgentRow {
  return { ...rowsOf(storage).get(agentId)! };
}

/** The agent's row as SQLite holds it (what an evicted object would rebuild from). */
export function storedRow(storage: MemoryFleetStorage, agentId: string): AgentRow {
  return getAgentRow(storage.sql, agentId)!;
}

/** The outbox's kinds, oldest first. */
export function outboxKinds(storage: MemoryFleetStorage): string[] {
  return readOutboxAfter(storage.sql, 0, 1000).map((e) => e.kind);
}

/** A socket that records what the fleet sends it (what a real client would receive). */
export class RecordingSocket implements PeerSocket {
  readonly sent: Record<string, unknown>[] = [];
  closed: { code: number | undefined; reason: string | undefined } | undefined;
  readyState = 1;
  attachment: unknown = null;
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  serializeAttachment(value: unknown): void {
    this.attachment = structuredClone(value);
  }
  deserializeAttachment(): unknown {
    return this.attachment;
  }
  of(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
}

export const configOf = (config: FleetConfig) => () => config;
