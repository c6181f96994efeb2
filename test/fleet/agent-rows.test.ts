import { describe, expect, it } from "vitest";
import { AgentRows } from "../../edge/fleet/agent-rows.js";
import { addAgent, openFleetDb, storedRow } from "./fleet-fixture.js";

describe("agent rows (memory over SQLite)", () => {
  it("writes at once, stages until the flush, and lists what memory holds newer", () => {
    const db = openFleetDb();
    const rows = new AgentRows(db.sql);
    const agent = addAgent(db);
    rows.write(agent.id, { connected: 1, online: 1, connected_at: 5, last_seen_at: 5 });
    expect(storedRow(db, agent.id)).toMatchObject({ connected: 1, last_seen_at: 5 });
    rows.stage(agent.id, { last_seen_at: 9, theta: 1.5 });
    // Memory has it; SQLite (what an evicted object rebuilds from) does not yet.
    expect(rows.get(agent.id)).toMatchObject({ last_seen_at: 9, theta: 1.5 });
    expect(storedRow(db, agent.id)).toMatchObject({ last_seen_at: 5, theta: null });
    expect(rows.list().find((r) => r.id === agent.id)).toMatchObject({ last_seen_at: 9 });
    expect(rows.connected().map((r) => r.id)).toEqual([agent.id]);
    expect(rows.hasStaged()).toBe(true);
    // A write of a staged column takes it out of the flush; the flush writes the rest.
    rows.write(agent.id, { theta: 2 });
    expect(rows.flush()).toBe(1);
    expect(storedRow(db, agent.id)).toMatchObject({ last_seen_at: 9, theta: 2 });
    expect(rows.hasStaged()).toBe(false);
    db.close();
  });

  it("comes back from SQLite after an eviction or a failed event, and refuses unknown columns", () => {
    const db = openFleetDb();
    const agent = addAgent(db);
    const rows = new AgentRows(db.sql);
    rows.write(agent.id, { connected: 1, online: 1 });
    rows.stage(agent.id, { summary_tokens: 1 });
    const fresh = new AgentRows(db.sql);
    fresh.loadConnected();
    expect(fresh.connected().map((r) => r.id)).toEqual([agent.id]);
    expect(fresh.get(agent.id)?.summary_tokens).toBeNull();
    rows.reload();
    expect(rows.get(agent.id)?.summary_tokens).toBeNull();
    expect(rows.hasStaged()).toBe(false);
    expect(() => rows.write(agent.id, { ["id = id; --" as "name"]: "x" })).toThrow(/no column/);
    // Disconnected and clean: forgotten at the flush (memory holds connected agents only).
    rows.write(agent.id, { connected: 0 });
    rows.flush();
    expect(rows.connected()).toEqual([]);
    db.close();
  });
});
