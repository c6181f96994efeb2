import { describe, expect, it } from "vitest";
import { INITIAL_MESH_LOCK, stepMeshLock, type MeshLockState } from "../../shared/kuramoto/mesh-lock.js";

const config = { lockAt: 0.8, unlockAt: 0.6, dwellMs: 1000 };

/** Feeds (time, r) samples; returns the changes with their times. */
function run(samples: [number, number | null][], start: MeshLockState = INITIAL_MESH_LOCK) {
  let state = start;
  const changes: [number, string][] = [];
  for (const [t, r] of samples) {
    const step = stepMeshLock(state, r, 3, t, config);
    state = step.state;
    if (step.change) changes.push([t, step.change.type]);
  }
  return { state, changes };
}

describe("mesh lock hysteresis", () => {
  it("locks only after r ≥ 0.8 has held for the dwell, and unlocks only after r ≤ 0.6 has", () => {
    const { changes, state } = run([
      [0, 0.85], [500, 0.9], [999, 0.81], [1000, 0.82], // locked at 1000
      [1500, 0.7], [2000, 0.65], // between thresholds: stays locked
      [3000, 0.5], [3500, 0.4], [4000, 0.3], // unlocked at 4000
    ]);
    expect(changes).toEqual([[1000, "mesh.locked"], [4000, "mesh.unlocked"]]);
    expect(state).toEqual({ locked: false, crossingSince: null });
  });

  it("r dipping back before the dwell ends restarts it (no flapping)", () => {
    const { changes } = run([[0, 0.9], [900, 0.79], [1000, 0.9], [1900, 0.9], [2000, 0.9]]);
    expect(changes).toEqual([[2000, "mesh.locked"]]);
    const wobble = run(Array.from({ length: 100 }, (_, i) => [i * 100, i % 2 === 0 ? 0.81 : 0.79] as [number, number]));
    expect(wobble.changes).toEqual([]);
  });

  it("no field counts as r = 0; a clock going backwards restarts the dwell", () => {
    const locked = { locked: true, crossingSince: null };
    expect(run([[0, null], [1000, null]], locked).changes).toEqual([[1000, "mesh.unlocked"]]);
    expect(run([[5000, 0.9], [4000, 0.9], [4999, 0.9], [5000, 0.9]]).changes).toEqual([[5000, "mesh.locked"]]);
  });

  it("reports r, the threshold crossed, the dwell and the agent count", () => {
    const first = stepMeshLock(INITIAL_MESH_LOCK, 0.95, 4, 0, config);
    const second = stepMeshLock(first.state, 0.93, 4, 1000, config);
    expect(second.change).toEqual({ type: "mesh.locked", r: 0.93, threshold: 0.8, dwellMs: 1000, agents: 4 });
  });
});
