import { describe, expect, it } from "vitest";
import { DEFAULT_FLEET_CONFIG } from "../../shared/protocol/index.js";
import { Field, SUMMARY_BURST } from "../../edge/fleet/field.js";
import { FleetClock } from "../../edge/fleet/fleet-clock.js";
import { Presence } from "../../edge/fleet/presence.js";
import { addAgent, configOf, openFleetDb, RecordingSocket, row } from "./fleet-fixture.js";

const config = DEFAULT_FLEET_CONFIG;
const summary = (theta: number, t: number) => ({ type: "summary" as const, v: 1 as const, lamport: 1, t, theta, omega: 0.1, coherence: 0.9, tokenHz: 20 });

function setup() {
  const db = openFleetDb();
  const sockets: RecordingSocket[] = [];
  const field = new Field(db.sql, new FleetClock(db.sql), { helloed: () => sockets }, configOf(config));
  return { db, sockets, field, presence: new Presence(db) };
}

describe("field", () => {
  it("holds connected agents with a fresh summary and no quarantine; a closed socket leaves at once", () => {
    const { db, field, presence } = setup();
    const [a, b, c] = [addAgent(db, 1, "a"), addAgent(db, 1, "b"), addAgent(db, 1, "c")];
    for (const agent of [a, b, c]) presence.connected(row(db, agent.id), 1_000);
    field.recordSummary(a.id, summary(0.1, 1_000), 1_000);
    field.recordSummary(b.id, summary(0.3, 1_000), 1_000);
    db.sql.exec(`UPDATE agents SET quarantine_reason = 'replay' WHERE id = ?`, b.id);
    // c never sent a summary.
    expect([a, b, c].map((x) => field.includes(row(db, x.id), 1_500))).toEqual([true, false, false]);
    expect(field.compute(1_500).n).toBe(1);
    // Stale after peerAgeMs.
    expect(field.includes(row(db, a.id), 1_000 + config.peerAgeMs + 1)).toBe(false);
    presence.disconnected(a.id, 2_000);
    expect(field.includes(row(db, a.id), 2_000)).toBe(false);
    expect(field.compute(2_000).n).toBe(0);
    db.close();
  });

  it("excludes drift-flagged agents only while steady ones outnumber them", () => {
    const { db, field, presence } = setup();
    const agents = ["a", "b", "c"].map((name) => addAgent(db, 1, name));
    for (const agent of agents) {
      presence.connected(row(db, agent.id), 1_000);
      field.recordSummary(agent.id, summary(0.2, 1_000), 1_000);
    }
    db.sql.exec(`UPDATE agents SET drift_reason = 'fast' WHERE id = ?`, agents[0]!.id);
    expect(field.driftExcludes(1_000)).toBe(true);
    expect(field.includes(row(db, agents[0]!.id), 1_000)).toBe(false);
    expect(field.compute(1_000).n).toBe(2);
    db.sql.exec(`UPDATE agents SET drift_reason = 'fast' WHERE id = ?`, agents[1]!.id);
    expect(field.driftExcludes(1_000)).toBe(false);
    expect(field.compute(1_000).n).toBe(3);
    db.close();
  });

  it("broadcasts to the helloed sockets on its cadence, each message a clock tick", () => {
    const { db, sockets, field } = setup();
    expect(field.nextBroadcastAt(5_000, false)).toBeNull();
    expect(field.nextBroadcastAt(5_000, true)).toBe(5_000);
    field.broadcast(5_000); // nobody to send to: nothing happens
    const ws = new RecordingSocket();
    sockets.push(ws);
    field.broadcast(5_000);
    field.broadcast(5_100);
    expect(ws.of("field").map((m) => [m.lamport, m.n, m.t, m.v])).toEqual([
      [1, 0, 5_000, 1],
      [2, 0, 5_100, 1],
    ]);
    expect(field.nextBroadcastAt(5_100, true)).toBe(5_100 + 1000 / config.fieldHz);
    // The cadence survives a new instance (eviction): it is in `meta`.
    const again = new Field(db.sql, new FleetClock(db.sql), { helloed: () => [] }, configOf(config));
    expect(again.nextBroadcastAt(5_100, true)).toBe(5_100 + 1000 / config.fieldHz);
    db.close();
  });

  it("limits summaries to summaryHz with bursts, and aligns phases only to a plausible agent clock", () => {
    const { db, field } = setup();
    const agent = addAgent(db);
    const take = (now: number) => field.takeSummaryToken(row(db, agent.id), now);
    const burst = Array.from({ length: SUMMARY_BURST + 1 }, () => take(10_000));
    expect(burst).toEqual([...Array(SUMMARY_BURST).fill(true), false]);
    expect(take(10_000 + 1000 / config.summaryHz)).toBe(true);
    field.recordSummary(agent.id, summary(7, 10_500), 10_000);
    expect(row(db, agent.id)).toMatchObject({ summary_t: 10_500, summary_received_at: 10_000 });
    expect(row(db, agent.id).theta).toBeCloseTo(7 - 2 * Math.PI);
    field.recordSummary(agent.id, summary(1, 99_000), 10_000);
    expect(row(db, agent.id).summary_t).toBe(10_000);
    db.close();
  });
});
