/**
 * Whether the fleet's mesh is phase-locked, from its order parameter r over time, with hysteresis
 * and a minimum dwell: it locks when r ≥ `lockAt` has held for `dwellMs`, and unlocks when
 * r ≤ `unlockAt` has held for `dwellMs`. Between the two thresholds nothing changes, so r wobbling
 * around one threshold cannot flap the state. Pure: the caller stores the state (the edge keeps it
 * in SQLite so an evicted object resumes it) and calls `stepMeshLock` at field cadence.
 */
export interface MeshLockConfig {
  readonly lockAt: number;
  readonly unlockAt: number;
  readonly dwellMs: number;
}

export const DEFAULT_MESH_LOCK: MeshLockConfig = { lockAt: 0.8, unlockAt: 0.6, dwellMs: 10_000 };

export interface MeshLockState {
  readonly locked: boolean;
  /** Since when r has been past the threshold that would flip the state (null: it is not). */
  readonly crossingSince: number | null;
}

export const INITIAL_MESH_LOCK: MeshLockState = { locked: false, crossingSince: null };

export interface MeshLockChange {
  readonly type: "mesh.locked" | "mesh.unlocked";
  readonly r: number;
  readonly threshold: number;
  readonly dwellMs: number;
  readonly agents: number;
}

/**
 * The next state after observing r (null or NaN: no field, counted as r = 0) with `agents`
 * contributing at `now`, and the change to report when the state flipped.
 */
export function stepMeshLock(
  state: MeshLockState,
  r: number | null,
  agents: number,
  now: number,
  config: MeshLockConfig = DEFAULT_MESH_LOCK,
): { state: MeshLockState; change: MeshLockChange | null } {
  const value = r === null || !Number.isFinite(r) ? 0 : Math.min(Math.max(r, 0), 1);
  const crossing = state.locked ? value <= config.unlockAt : value >= config.lockAt;
  if (!crossing) return { state: { locked: state.locked, crossingSince: null }, change: null };
  // A clock that went backwards restarts the dwell rather than shortening it.
  const since = state.crossingSince === null || state.crossingSince > now ? now : state.crossingSince;
  if (now - since < config.dwellMs) return { state: { locked: state.locked, crossingSince: since }, change: null };
  const locked = !state.locked;
  return {
    state: { locked, crossingSince: null },
    change: {
      type: locked ? "mesh.locked" : "mesh.unlocked",
      r: value,
      threshold: locked ? config.lockAt : config.unlockAt,
      dwellMs: config.dwellMs,
      agents,
    },
  };
}
