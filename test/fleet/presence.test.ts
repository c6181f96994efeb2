import { describe, expect, it } from "vitest";
import { Presence } from "../../edge/fleet/presence.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import { addAgent, openFleetDb, row } from "./fleet-fixture.js";

const OFFLINE_AFTER = 15_000;

describe("presence", () => {
  it("online on first connect; a close disconnects at once but offline comes only after offlineAfterMs with no socket", () => {
    const db = openFleetDb();
    const presence = new Presence(db);
    const agent = addAgent(db);
    const events = () => readOutboxAfter(db.sql, 0, 100).filter((e) => e.kind.startsWith("agent.o")).map((e) => [e.kind, e.createdAt]);

    presence.connected(row(db, agent.id), 10_000);
    expect(row(db, agent.id)).toMatchObject({ connected: 1, online: 1, last_seen_at: 10_000 });
    presence.seen(agent.id, 12_000);
    presence.disconnected(agent.id, 13_000);
    expect(row(db, agent.id)).toMatchObject({ connected: 0, online: 1, last_seen_at: 13_000 });
    expect(presence.nextSweepAt(OFFLINE_AFTER, false, 13_000)).toBe(13_000 + OFFLINE_AFTER);

    // Back within the time: no offline/online pair.
    expect(presence.sweep(OFFLINE_AFTER, 13_000 + OFFLINE_AFTER - 1)).toEqual([]);
    presence.connected(row(db, agent.id), 20_000);
    presence.disconnected(agent.id, 21_000);
    expect(events()).toEqual([["agent.online", 10_000]]);

    // Gone for the whole time: offline, once, due exactly then.
    expect(presence.sweep(OFFLINE_AFTER, 21_000 + OFFLINE_AFTER)).toEqual([agent.id]);
    expect(presence.sweep(OFFLINE_AFTER, 60_000)).toEqual([]);
    expect(row(db, agent.id)).toMatchObject({ connected: 0, online: 0 });
    expect(presence.nextSweepAt(OFFLINE_AFTER, false, 60_000)).toBeNull();
    const offline = readOutboxAfter(db.sql, 0, 100).find((e) => e.kind === "agent.offline");
    expect(offline?.data).toEqual({ agentId: agent.id, reason: "silent", lastSeenAt: new Date(21_000).toISOString() });

    // The offline → online transition is announced again.
    presence.connected(row(db, agent.id), 70_000);
    expect(events()).toEqual([
      ["agent.online", 10_000],
      ["agent.offline", 36_000],
      ["agent.online", 70_000],
    ]);
    db.close();
  });

  it("an open but silent socket keeps the agent online (the field drops it by summary age instead)", () => {
    const db = openFleetDb();
    const presence = new Presence(db);
    const agent = addAgent(db);
    presence.connected(row(db, agent.id), 1_000);
    expect(presence.sweep(OFFLINE_AFTER, 1_000_000)).toEqual([]);
    expect(row(db, agent.id)).toMatchObject({ connected: 1, online: 1 });
    // Nothing to wait for while its socket is there.
    expect(presence.nextSweepAt(OFFLINE_AFTER, true, 1_000_000)).toBeNull();
    db.close();
  });

  it("reconciles rows marked connected with the sockets the runtime holds; the debounce counts from the last message", () => {
    const db = openFleetDb();
    const presence = new Presence(db);
    const [a, b] = [addAgent(db, 1_000, "a"), addAgent(db, 1_000, "b")];
    presence.connected(row(db, a.id), 5_000);
    presence.connected(row(db, b.id), 6_000);
    // After a restart the runtime holds no socket: due at once.
    expect(presence.nextSweepAt(OFFLINE_AFTER, false, 7_000)).toBe(7_000);
    expect(presence.reconcile(new Set([b.id]))).toEqual([a.id]);
    expect(row(db, a.id)).toMatchObject({ connected: 0, online: 1, last_seen_at: 5_000 });
    expect(row(db, b.id)).toMatchObject({ connected: 1, online: 1 });
    expect(presence.nextSweepAt(OFFLINE_AFTER, true, 7_000)).toBe(5_000 + OFFLINE_AFTER);
    expect(presence.sweep(OFFLINE_AFTER, 5_000 + OFFLINE_AFTER)).toEqual([a.id]);
    db.close();
  });
});
