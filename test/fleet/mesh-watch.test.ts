import { describe, expect, it } from "vitest";
import { MeshWatch } from "../../edge/fleet/mesh-watch.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import { openFleetDb } from "./fleet-fixture.js";

describe("mesh watch", () => {
  it("emits mesh.locked / mesh.unlocked with hysteresis, and resumes a dwell after eviction", () => {
    const db = openFleetDb();
    const config = { lockAt: 0.8, unlockAt: 0.6, dwellMs: 1000 };
    const watch = new MeshWatch(db, config);
    watch.observe(0.9, 3, 0);
    watch.observe(0.7, 3, 500); // dipped: the dwell restarts
    watch.observe(0.85, 3, 600);
    // A new instance over the same storage (the object was evicted) continues the dwell from 600.
    const again = new MeshWatch(db, config);
    again.observe(0.86, 3, 1599);
    expect(readOutboxAfter(db.sql, 0, 10)).toEqual([]);
    again.observe(0.87, 3, 1600);
    again.observe(0.5, 2, 2000);
    expect(again.nextIdleCheckAt(true, 2100)).toBeNull();
    expect(again.nextIdleCheckAt(false, 2100)).toBe(3000);
    again.observe(null, 0, 3000);
    const events = readOutboxAfter(db.sql, 0, 10);
    expect(events.map((e) => [e.kind, e.data, e.createdAt])).toEqual([
      ["mesh.locked", { r: 0.87, threshold: 0.8, dwellMs: 1000, agents: 3 }, 1600],
      ["mesh.unlocked", { r: 0, threshold: 0.6, dwellMs: 1000, agents: 0 }, 3000],
    ]);
    expect(again.nextIdleCheckAt(false, 3100)).toBeNull();
    db.close();
  });
});
