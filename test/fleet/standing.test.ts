import { describe, expect, it } from "vitest";
import { DEFAULT_FLEET_CONFIG, LIMITS } from "../../shared/protocol/index.js";
import { FleetClock } from "../../edge/fleet/fleet-clock.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import { Standing, standingMessage } from "../../edge/fleet/standing.js";
import { addAgent, openFleetDb, row } from "./fleet-fixture.js";

const records = (lamport: number) => ({ kind: "records" as const, lamport, sentAt: null, tokenHz: null });

describe("standing", () => {
  it("quarantines a replayed clock with its error and event, and releases after a healthy streak", () => {
    const db = openFleetDb();
    const clock = new FleetClock(db.sql);
    const standing = new Standing(db, clock);
    const agent = addAgent(db);
    const config = DEFAULT_FLEET_CONFIG;
    const first = standing.receiveClock(agent, { kind: "hello", lamport: 10, sentAt: null, tokenHz: null }, config, 1_000);
    expect(first).toMatchObject({ accepted: true, violation: null });
    expect(clock.value()).toBe(first.lamport);
    expect(first.lamport).toBeGreaterThan(0);

    const replay = standing.receiveClock(agent, records(5), config, 2_000);
    expect(replay.accepted).toBe(false);
    expect(replay.violation).toMatchObject({ code: "lamport_replay", details: { lamport: 5, excess: 5, bound: 0 } });
    expect(standingMessage(row(db, agent.id))).toMatchObject({ type: "standing", quarantined: true, weight: 0 });
    // A second violation while quarantined is not announced again.
    standing.receiveClock(agent, records(4), config, 2_100);
    const kinds = () => readOutboxAfter(db.sql, 0, 100).map((e) => e.kind).filter((k) => k !== "agent.enrolled");
    expect(kinds()).toEqual(["agent.quarantined"]);

    for (const [i, lamport] of [11, 12, 13].entries()) standing.receiveClock(agent, records(lamport), config, 3_000 + i * 1_000);
    expect(kinds()).toEqual(["agent.quarantined", "agent.released"]);
    expect(standingMessage(row(db, agent.id))).toEqual({ type: "standing", quarantined: false, reason: null, weight: 1 });
    db.close();
  });

  it("absorbs an accepted clock with a bounded step, never past the protocol maximum", () => {
    const db = openFleetDb();
    const clock = new FleetClock(db.sql);
    const standing = new Standing(db, clock);
    const agent = addAgent(db);
    const outcome = standing.receiveClock(agent, { kind: "hello", lamport: LIMITS.lamportMax, sentAt: null, tokenHz: null }, DEFAULT_FLEET_CONFIG, 1_000);
    expect(outcome.accepted).toBe(true);
    expect(outcome.lamport).toBeLessThan(1_000);
    expect(clock.value()).toBe(outcome.lamport);
    clock.set(LIMITS.lamportMax);
    expect(clock.tick()).toBe(LIMITS.lamportMax);
    db.close();
  });
});
