import type { AgentKeysJson } from "../../shared/api/index.js";
import { agentLogOrigin, agentLogVerifierKey, witnessName, witnessVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import type { KeyEntry, KeyEvent, LogEntry } from "../../shared/log/index.js";
import { base64UrlToBytes, bytesToBase64 } from "../../shared/protocol/index.js";
import { blob } from "./sql-values.js";
import type { FleetStorage, SqlDatabase } from "./sql-database.js";

/**
 * Agents' keys in the global log: every enrollment, approval and revocation is a key entry (0x03)
 * appended in the registry's transaction, and a `key_events` row (the entry's index, so the key
 * history route needs no scan of the log). An auditor learns an agent's keys from the log itself
 * and proves which key was valid when.
 */

/** Where key entries go: the global log (GlobalLog). */
export interface KeyLog {
  /** Appends a non-record entry; returns its index. Inside the caller's transaction. */
  appendEntry(entry: LogEntry, now: number): number;
  /** Forgets what memory holds of the tree (after a rolled-back transaction). */
  reload(): void;
}

/** Runs `work` in a transaction; if it throws (rolled back), the log forgets what memory appended. */
export function inKeyTransaction<T>(storage: FleetStorage, log: KeyLog, work: () => T): T {
  try {
    return storage.transaction(work);
  } catch (err) {
    log.reload();
    throw err;
  }
}

/** One row of an agent's key history. */
export interface KeyEventRow {
  readonly index: number;
  readonly event: KeyEvent;
  readonly publicKey: Uint8Array;
  readonly at: number;
}

/** Appends the key entry and its row. Call inside a transaction. Returns the entry's index. */
export function appendKeyEvent(sql: SqlDatabase, log: KeyLog, entry: KeyEntry, now: number): number {
  const index = log.appendEntry({ type: "key", ...entry }, now);
  sql.exec(
    `INSERT INTO key_events (log_index, agent_id, event, public_key, at) VALUES (?, ?, ?, ?, ?)`,
    index,
    entry.agentId,
    entry.event,
    blob(entry.publicKey),
    entry.timestamp,
  );
  return index;
}

/** An agent's key history, oldest first. */
export function keyHistory(sql: SqlDatabase, agentId: string): KeyEventRow[] {
  return sql
    .exec<{ log_index: number; event: KeyEvent; public_key: ArrayBuffer; at: number }>(
      `SELECT log_index, event, public_key, at FROM key_events WHERE agent_id = ? ORDER BY log_index`,
      agentId,
    )
    .toArray()
    .map((row) => ({ index: row.log_index, event: row.event, publicKey: new Uint8Array(row.public_key), at: row.at }));
}

interface UnloggedAgent extends Record<string, string | number | null> {
  id: string;
  public_key_x: string;
  enrolled_at: number;
  approved_at: number | null;
  revoked_at: number | null;
}

/**
 * Agents enrolled before keys were logged get their history appended once: enrolled, then approved
 * if they were, then revoked if they were, each at the time the registry recorded. Run on wake-up;
 * an agent with any key entry is never backfilled again. Returns the entries appended.
 */
export function backfillKeyHistory(storage: FleetStorage, log: KeyLog, now: number): number {
  const agents = storage.sql
    .exec<UnloggedAgent>(
      `SELECT id, public_key_x, enrolled_at, approved_at, revoked_at FROM agents a
       WHERE NOT EXISTS (SELECT 1 FROM key_events k WHERE k.agent_id = a.id)
       ORDER BY enrolled_at, id`,
    )
    .toArray();
  if (agents.length === 0) return 0;
  let appended = 0;
  inKeyTransaction(storage, log, () => {
    for (const agent of agents) {
      const publicKey = base64UrlToBytes(agent.public_key_x);
      const events: [KeyEvent, number | null][] = [
        ["enrolled", agent.enrolled_at],
        ["approved", agent.approved_at],
        ["revoked", agent.revoked_at],
      ];
      for (const [event, at] of events) {
        if (at === null) continue;
        appendKeyEvent(storage.sql, log, { event, agentId: agent.id, publicKey, timestamp: at }, now);
        appended++;
      }
    }
  });
  return appended;
}

/**
 * GET /v1/log/agents/:agentId/keys: the agent's key entries with their global log indices, and the
 * verifier keys of its current key (agent checkpoints, cosignatures). Undefined for an unknown agent.
 */
export function agentKeys(sql: SqlDatabase, fleetOrigin: string, agentId: string): AgentKeysJson | undefined {
  const agent = sql.exec<{ public_key_x: string }>(`SELECT public_key_x FROM agents WHERE id = ?`, agentId).toArray()[0];
  if (agent === undefined) return undefined;
  const publicKey = base64UrlToBytes(agent.public_key_x);
  return {
    agentId,
    origin: agentLogOrigin(fleetOrigin, agentId),
    witness: witnessName(fleetOrigin, agentId),
    keys: keyHistory(sql, agentId).map((k) => ({ event: k.event, publicKey: bytesToBase64(k.publicKey), index: k.index, at: k.at })),
    verifierKey: agentLogVerifierKey(fleetOrigin, agentId, publicKey),
    cosignerKey: witnessVerifierKey(fleetOrigin, agentId, publicKey),
  };
}
