import { DEFAULT_MESH_LOCK, INITIAL_MESH_LOCK, stepMeshLock, type MeshLockConfig, type MeshLockState } from "../../shared/kuramoto/mesh-lock.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * Whether the fleet's mesh is phase-locked (shared/kuramoto/mesh-lock.ts: r ≥ 0.8 held for the dwell
 * locks, r ≤ 0.6 held for it unlocks), observed at field cadence. The state lives in its own
 * one-row table so an evicted object resumes a dwell where it was; each flip is written with its
 * `mesh.locked` / `mesh.unlocked` event in one transaction.
 */
const SCHEMA = `CREATE TABLE IF NOT EXISTS mesh_lock (id INTEGER PRIMARY KEY CHECK (id = 1), locked INTEGER NOT NULL, crossing_since INTEGER)`;

export class MeshWatch {
  readonly #storage: FleetStorage;
  readonly #config: MeshLockConfig;
  #state: MeshLockState | undefined;

  constructor(storage: FleetStorage, config: MeshLockConfig = DEFAULT_MESH_LOCK) {
    this.#storage = storage;
    this.#config = config;
  }

  get state(): MeshLockState {
    if (this.#state === undefined) {
      this.#storage.sql.exec(SCHEMA);
      const row = this.#storage.sql.exec<{ locked: number; crossing_since: number | null }>(`SELECT locked, crossing_since FROM mesh_lock WHERE id = 1`).toArray()[0];
      this.#state = row === undefined ? INITIAL_MESH_LOCK : { locked: row.locked === 1, crossingSince: row.crossing_since };
    }
    return this.#state;
  }

  /** One observation of the field (r null: no field). */
  observe(r: number | null, agents: number, now: number): void {
    const before = this.state;
    const { state, change } = stepMeshLock(before, r, agents, now, this.#config);
    if (state.locked === before.locked && state.crossingSince === before.crossingSince) return;
    this.#storage.transaction(() => {
      this.#storage.sql.exec(
        `INSERT INTO mesh_lock (id, locked, crossing_since) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET locked = excluded.locked, crossing_since = excluded.crossing_since`,
        state.locked ? 1 : 0,
        state.crossingSince,
      );
      if (change !== null) {
        const { type, ...data } = change;
        appendOutbox(this.#storage.sql, type, data, now);
      }
    });
    this.#state = state;
  }

  /**
   * With no socket open the field task stops; a locked mesh must still unlock (r is 0 with nobody
   * in the field): due when its dwell would end. Null while sockets are open or it is unlocked.
   */
  nextIdleCheckAt(socketsOpen: boolean, now: number): number | null {
    const state = this.state;
    if (socketsOpen || !state.locked) return null;
    return state.crossingSince === null ? now : state.crossingSince + this.#config.dwellMs;
  }
}
