import { getAgentRow, listAgentRows, type AgentRow } from "./registry.js";
import type { SqlDatabase, SqlValue } from "./sql-database.js";

export type AgentPatch = Partial<Omit<AgentRow, "id">>;

/** Columns a patch may name: the `agents` table's, so a patch can never put anything else into SQL. */
const COLUMNS = new Set<string>([
  "public_key_x", "name", "hardware", "status", "token_id", "enrolled_at", "approved_at", "revoked_at", "connected", "online",
  "connected_at", "last_seen_at", "software", "next_seq", "lamport", "lamport_at", "lamport_arrived_at", "healthy_streak",
  "quarantine_reason", "quarantined_at", "drift_reason", "drift_streak", "drift_excess", "summary_received_at", "summary_tokens",
  "summary_tokens_at", "summary_arrived_at", "summary_lead", "summary_t", "theta", "omega", "coherence", "token_hz", "agent_log_size", "agent_log_root",
]);

/**
 * The `agents` rows the object works with, cached in memory, with two kinds of write:
 *
 * - `write`: SQLite now (in the caller's transaction): status, connection, resume point, standing
 *   changes — anything an acknowledgement, an event or a refusal depends on.
 * - `stage`: memory now, SQLite at the next `flush` (the alarm's `agent-rows` task, every
 *   FLUSH_INTERVAL_MS): what every summary and message touches — last seen, the summary bucket, the
 *   phase, the clock baseline. Issue 12's profile: a SQLite write per message was most of the
 *   object's time. After an eviction these columns are at most one flush old; each is soft state
 *   the next summary replaces (docs/edge.md#memory-and-storage).
 *
 * Every write to `agents` goes through here, so the cache is never stale. It holds every connected
 * agent (`loadConnected` on wake-up; `write` of `connected = 1` loads the row) and forgets clean
 * rows of disconnected agents at each flush.
 */
export class AgentRows {
  readonly #sql: SqlDatabase;
  readonly #rows = new Map<string, AgentRow>();
  readonly #dirty = new Map<string, Set<string>>();
  #onWrite: ((agentId: string) => void) | undefined;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  /** The live row: `write` and `stage` update it in place, so copy it (`{ ...row }`) to compare before and after. */
  get(agentId: string): AgentRow | undefined {
    const cached = this.#rows.get(agentId);
    if (cached !== undefined) return cached;
    const row = getAgentRow(this.#sql, agentId);
    if (row !== undefined) this.#rows.set(agentId, row);
    return row;
  }

  /** Every agent, in enrollment order, with what memory holds newer than SQLite. */
  list(): AgentRow[] {
    return listAgentRows(this.#sql).map((row) => this.#rows.get(row.id) ?? row);
  }

  /** The agents whose socket is open (all cached). */
  connected(): AgentRow[] {
    const rows: AgentRow[] = [];
    for (const row of this.#rows.values()) if (row.connected === 1) rows.push(row);
    return rows;
  }

  /**
   * Forgets memory and reloads the connected agents from SQLite: after a failed event whose rolled
   * back transaction may have held a `write` (staged columns not yet flushed are lost: soft state).
   */
  reload(): void {
    this.#rows.clear();
    this.#dirty.clear();
    this.loadConnected();
  }

  /** After a wake-up: every agent SQLite says is connected comes into memory. */
  loadConnected(): void {
    for (const row of this.#sql.exec<AgentRow>(`SELECT * FROM agents WHERE connected = 1`).toArray()) {
      if (!this.#rows.has(row.id)) this.#rows.set(row.id, row);
    }
  }

  /** Called with the agent's id after every `write` (the dashboard feed notes status changes: viewer-feed.ts). */
  observeWrites(observer: (agentId: string) => void): void {
    this.#onWrite = observer;
  }

  /** Writes the patch to SQLite now (and memory). Staged columns it names are written with it. */
  write(agentId: string, patch: AgentPatch): void {
    const columns = Object.keys(patch);
    if (columns.length === 0) return;
    this.#update(agentId, patch as Record<string, SqlValue>);
    const row = this.#rows.get(agentId);
    if (row !== undefined) Object.assign(row, patch);
    else if (patch.connected === 1) this.get(agentId);
    const dirty = this.#dirty.get(agentId);
    if (dirty !== undefined) {
      for (const column of columns) dirty.delete(column);
      if (dirty.size === 0) this.#dirty.delete(agentId);
    }
    this.#onWrite?.(agentId);
  }

  /** Changes the row in memory now; SQLite gets it at the next flush. */
  stage(agentId: string, patch: AgentPatch): void {
    const row = this.get(agentId);
    if (row === undefined) return;
    Object.assign(row, patch);
    let dirty = this.#dirty.get(agentId);
    if (dirty === undefined) this.#dirty.set(agentId, (dirty = new Set()));
    for (const column of Object.keys(patch)) dirty.add(column);
  }

  hasStaged(): boolean {
    return this.#dirty.size > 0;
  }

  /** Writes every staged change (call inside a transaction: all or nothing). Returns the rows written. */
  flush(): number {
    let written = 0;
    for (const [agentId, columns] of this.#dirty) {
      const row = this.#rows.get(agentId);
      if (row === undefined) continue;
      const patch: Record<string, SqlValue> = {};
      for (const column of columns) patch[column] = row[column] as SqlValue;
      this.#update(agentId, patch);
      written++;
    }
    this.#dirty.clear();
    for (const [agentId, row] of this.#rows) if (row.connected !== 1) this.#rows.delete(agentId);
    return written;
  }

  #update(agentId: string, patch: Record<string, SqlValue>): void {
    const columns = Object.keys(patch);
    for (const column of columns) if (!COLUMNS.has(column)) throw new TypeError(`agents has no column ${column}`);
    this.#sql.exec(`UPDATE agents SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, ...columns.map((c) => patch[c] ?? null), agentId);
  }
}

/** How often staged agent columns reach SQLite. */
export const FLUSH_INTERVAL_MS = 1000;
