import type { AgentRow } from "./registry.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * Whether agents are connected and online, and when they were last seen (`agents` columns
 * `connected`, `online`, `connected_at`, `last_seen_at`).
 *
 * - **connected**: the agent's current socket is open. Set on upgrade, cleared at once when that
 *   socket closes (the field excludes the agent at once).
 * - **online**: the agent has a socket, or had one or sent a message within `offlineAfterMs`. A
 *   socket close only starts that time; `agent.offline` (and online = 0) follow when it passes with
 *   no socket and no message, so a reconnect within it emits neither offline nor online.
 *   `agent.online` fires on the offline → online transition only.
 */
export class Presence {
  readonly #storage: FleetStorage;

  constructor(storage: FleetStorage) {
    this.#storage = storage;
  }

  /** A socket of `row`'s agent was accepted. */
  connected(row: Pick<AgentRow, "id" | "online">, now: number): void {
    this.#storage.transaction(() => {
      this.#storage.sql.exec(`UPDATE agents SET connected = 1, online = 1, connected_at = ?, last_seen_at = ? WHERE id = ?`, now, now, row.id);
      if (row.online === 0) appendOutbox(this.#storage.sql, "agent.online", { agentId: row.id }, now);
    });
  }

  /** The agent sent a message. */
  seen(agentId: string, now: number): void {
    this.#storage.sql.exec(`UPDATE agents SET last_seen_at = ? WHERE id = ?`, now, agentId);
  }

  /** The agent's current socket closed: no longer connected; offline only after the debounce. */
  disconnected(agentId: string, now: number): void {
    this.#storage.sql.exec(`UPDATE agents SET connected = 0, last_seen_at = ? WHERE id = ?`, now, agentId);
  }

  /**
   * Agents marked connected whose sockets the runtime no longer holds (the process restarted, or a
   * close was lost) are not connected. Their last-seen time stays: the debounce counts from there.
   * Returns the agents changed.
   */
  reconcile(live: ReadonlySet<string>): string[] {
    const lost = this.#storage.sql
      .exec<{ id: string }>(`SELECT id FROM agents WHERE connected = 1`)
      .toArray()
      .map((r) => r.id)
      .filter((id) => !live.has(id));
    for (const id of lost) this.#storage.sql.exec(`UPDATE agents SET connected = 0 WHERE id = ?`, id);
    return lost;
  }

  /**
   * When the sweep is next due: the oldest disconnected-but-online agent passing `offlineAfterMs`;
   * now, if rows say connected while the runtime holds no socket at all. Null: nothing pending.
   */
  nextSweepAt(offlineAfterMs: number, socketsOpen: boolean, now: number): number | null {
    const row = this.#storage.sql
      .exec<{ gone: number | null; connected: number }>(
        `SELECT MIN(CASE WHEN connected = 0 THEN COALESCE(last_seen_at, 0) END) AS gone, COALESCE(SUM(connected), 0) AS connected
         FROM agents WHERE online = 1 OR connected = 1`,
      )
      .toArray()[0];
    const due: number[] = [];
    if (row?.gone != null) due.push(row.gone + offlineAfterMs);
    if (!socketsOpen && (row?.connected ?? 0) > 0) due.push(now);
    return due.length === 0 ? null : Math.min(...due);
  }

  /**
   * Marks offline every agent with no socket and no message for `offlineAfterMs`, each with its
   * `agent.offline` event in one transaction. Returns their ids.
   */
  sweep(offlineAfterMs: number, now: number): string[] {
    return this.#storage.transaction(() => {
      const stale = this.#storage.sql
        .exec<{ id: string; last_seen_at: number | null }>(
          `SELECT id, last_seen_at FROM agents WHERE online = 1 AND connected = 0 AND (last_seen_at IS NULL OR last_seen_at <= ?)`,
          now - offlineAfterMs,
        )
        .toArray();
      for (const { id, last_seen_at } of stale) {
        this.#storage.sql.exec(`UPDATE agents SET online = 0 WHERE id = ?`, id);
        appendOutbox(
          this.#storage.sql,
          "agent.offline",
          { agentId: id, reason: "silent", lastSeenAt: last_seen_at === null ? null : new Date(last_seen_at).toISOString() },
          now,
        );
      }
      return stale.map((r) => r.id);
    });
  }
}
