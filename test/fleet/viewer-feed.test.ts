import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  decodePhaseFrame,
  LIVE_HISTORY_MS,
  parseLiveMessage,
  VIEWER_SESSION_CLOSE,
  type AgentsMessage,
  type FleetMessage,
  type LiveMessage,
  type PhaseFrame,
  type SnapshotMessage,
} from "../../shared/dashboard/index.js";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { Field } from "../../edge/fleet/field.js";
import { FleetClock } from "../../edge/fleet/fleet-clock.js";
import { FleetIdentity } from "../../edge/fleet/fleet-identity.js";
import { FleetViews } from "../../edge/fleet/fleet-view.js";
import { Presence } from "../../edge/fleet/presence.js";
import { approveAgent, enroll, issueToken, revokeAgent } from "../../edge/fleet/registry.js";
import { ViewerFeed } from "../../edge/fleet/viewer-feed.js";
import { ViewerHistory } from "../../edge/fleet/viewer-history.js";
import type { ViewerSocket } from "../../edge/fleet/viewer-socket.js";
import { AgentRows } from "../../edge/fleet/agent-rows.js";
import { addAgent, logOf, openFleetDb, row, rowsOf } from "./fleet-fixture.js";
import type { MemoryFleetStorage } from "../support/sql-js-database.js";

/** A viewer's socket that keeps every frame, decoded as the browser decodes it (shared/dashboard). */
class Viewer implements ViewerSocket {
  readonly texts: LiveMessage[] = [];
  readonly frames: PhaseFrame[] = [];
  readonly raw: (string | Uint8Array)[] = [];
  readyState = 1;
  closed: { code: number | undefined; reason: string | undefined } | undefined;
  attachment: unknown = null;
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === "string") {
      this.raw.push(data);
      this.texts.push(data === "pong" ? ({ type: "pong" } as never) : parseLiveMessage(data));
    } else {
      const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
      this.raw.push(bytes);
      this.frames.push(decodePhaseFrame(bytes));
    }
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  serializeAttachment(value: unknown): void {
    this.attachment = structuredClone(value);
  }
  deserializeAttachment(): unknown {
    return this.attachment;
  }
  of<T extends LiveMessage["type"]>(type: T): Extract<LiveMessage, { type: T }>[] {
    return this.texts.filter((m): m is Extract<LiveMessage, { type: T }> => m.type === type);
  }
  clear(): void {
    this.texts.length = 0;
    this.frames.length = 0;
    this.raw.length = 0;
  }
}

function setup(db: MemoryFleetStorage = openFleetDb(), rows: AgentRows = rowsOf(db)) {
  const identity = new FleetIdentity(db.sql, {});
  identity.open({ fleetId: "f", host: "edge.test" }, true);
  const clock = new FleetClock(db.sql);
  const field = new Field(db.sql, rows, clock, { helloed: () => [] }, () => identity.config());
  const views = new FleetViews({ rows, identity, clock, field, log: logOf(db) });
  const history = new ViewerHistory(db.sql);
  const presence = new Presence(db, rows);
  const sockets: Viewer[] = [];
  let agentsLive = true;
  const feed = new ViewerFeed({ rows, views, history, viewers: () => sockets.filter((s) => s.readyState === 1), agentsLive: () => agentsLive });
  const open = (now: number, sessionHash = "s1", expiresAt = now + 3_600_000) => {
    const ws = new Viewer();
    sockets.push(ws);
    feed.opened(ws, { kind: "viewer", sessionHash, expiresAt, openedAt: now });
    return ws;
  };
  const summary = (agentId: string, now: number, theta: number) => field.recordSummary(agentId, { v: 1, type: "summary", lamport: 1, t: now, theta, omega: 0.5, coherence: 0.8, tokenHz: 12 }, now);
  return { db, rows, feed, open, presence, summary, history, field, setLive: (v: boolean) => (agentsLive = v) };
}

const connect = (ctx: ReturnType<typeof setup>, agentId: string, now: number) => ctx.presence.connected(row(ctx.db, agentId), now);

describe("viewer feed (the dashboard live channel, object side)", () => {
  it("costs nothing without viewers; a new viewer gets a snapshot at once, then only what changed", () => {
    const ctx = setup();
    const a = addAgent(ctx.db, 1_000, "a");
    const b = addAgent(ctx.db, 1_000, "b");
    connect(ctx, a.id, 1_000);
    connect(ctx, b.id, 1_000);
    expect(ctx.feed.nextDueAt(10_000)).toBeNull();
    const viewer = ctx.open(10_000);
    expect(ctx.feed.nextDueAt(10_000)).toBe(10_000);
    ctx.feed.flush(10_000);
    const [snapshot] = viewer.of("snapshot") as SnapshotMessage[];
    expect(viewer.texts).toHaveLength(1);
    expect(snapshot!.agents.map((x) => [x.name, x.status, x.online, x.connected, x.theta]).sort()).toEqual([
      ["a", "active", true, true, null],
      ["b", "active", true, true, null],
    ]);
    expect(new Set(snapshot!.agents.map((x) => x.i)).size).toBe(2);
    expect(snapshot!.fleet.agents).toMatchObject({ total: 2, online: 2 });
    const ia = snapshot!.agents.find((x) => x.id === a.id)!.i;

    // Agents live: the next flush is due one gap later. Two summaries of a within it coalesce into one entry.
    expect(ctx.feed.nextDueAt(10_010)).toBe(10_250);
    viewer.clear();
    ctx.summary(a.id, 10_100, 1.0);
    ctx.summary(a.id, 10_200, 1.25);
    ctx.feed.flush(10_250);
    expect(viewer.frames).toHaveLength(1);
    expect(viewer.frames[0]!.agents).toHaveLength(1);
    expect(viewer.frames[0]!.agents[0]).toMatchObject({ i: ia, t: 10_200 });
    expect(viewer.frames[0]!.agents[0]!.theta).toBeCloseTo(1.25, 3);
    expect(viewer.of("agents")).toEqual([]);
    // Phases moved but the fleet message waits for its second.
    expect(viewer.of("fleet")).toEqual([]);

    // Nothing new: nothing sent until the heartbeat, which is the fleet alone.
    viewer.clear();
    ctx.feed.flush(10_500);
    expect(viewer.raw).toEqual([]);
    // The heartbeat: the fleet, and the slow columns a summary moved (token rate) as an upsert.
    ctx.feed.flush(12_000);
    expect(viewer.frames).toEqual([]);
    expect(viewer.texts.map((m) => m.type)).toEqual(["agents", "fleet"]);
    expect((viewer.of("agents")[0] as AgentsMessage).upsert).toMatchObject([{ id: a.id, tokenHz: 12, t: 10_200 }]);
    viewer.clear();
    ctx.feed.flush(14_000);
    expect(viewer.texts.map((m) => m.type)).toEqual(["fleet"]);
    const fleet = viewer.of("fleet")[0] as FleetMessage;
    expect(fleet.sample).toEqual([14_000, fleet.fleet.field.r, fleet.fleet.field.psi]);
    ctx.db.close();
  });

  it("status changes are an agents message: disconnect, quarantine, approval, revocation removes", () => {
    const ctx = setup();
    const a = addAgent(ctx.db, 1_000, "a");
    connect(ctx, a.id, 1_000);
    const viewer = ctx.open(2_000);
    ctx.feed.flush(2_000);
    const ia = (viewer.of("snapshot")[0] as SnapshotMessage).agents[0]!.i;
    viewer.clear();
    // A pending agent enrolls (an insert, no write): seen at the heartbeat's full scan.
    const token = issueToken(ctx.db.sql, { maxUses: 1, expiresInSeconds: 3600, requireApproval: true }, 2_100);
    const key = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const pending = enroll(ctx.db, logOf(ctx.db), { token: token.token, publicKey: key, publicKeyX: bytesToBase64Url(key), name: "p" }, 2_100);
    if (!pending.ok) throw new Error(pending.error.message);
    ctx.feed.flush(2_300);
    expect(viewer.of("agents")).toEqual([]);
    ctx.feed.flush(4_000);
    const added = (viewer.of("agents")[0] as AgentsMessage).upsert;
    expect(added).toMatchObject([{ id: pending.value.agentId, status: "pending", online: false }]);
    expect(added[0]!.i).not.toBe(ia);
    // A status change through a write shows at the next flush, with the fleet counts.
    viewer.clear();
    approveAgent(ctx.db, ctx.rows, logOf(ctx.db), pending.value.agentId, "f", 4_100);
    ctx.rows.write(a.id, { quarantine_reason: "lamport_regression", quarantined_at: 4_100 });
    ctx.feed.flush(4_250);
    const changed = (viewer.of("agents")[0] as AgentsMessage).upsert;
    expect(changed.map((x) => [x.id, x.status, x.quarantine])).toEqual(
      expect.arrayContaining([
        [pending.value.agentId, "active", null],
        [a.id, "active", { reason: "lamport_regression", since: 4_100 }],
      ]),
    );
    expect(viewer.of("fleet")).toHaveLength(1);
    // Disconnect: connected false at once.
    viewer.clear();
    ctx.presence.disconnected(a.id, 4_300);
    ctx.feed.flush(4_500);
    expect((viewer.of("agents")[0] as AgentsMessage).upsert).toMatchObject([{ id: a.id, connected: false, online: true }]);
    // Revoked: removed from the live set, its index not reused in the same message.
    viewer.clear();
    revokeAgent(ctx.db, ctx.rows, logOf(ctx.db), a.id, "f", 4_600);
    ctx.feed.flush(4_750);
    expect(viewer.of("agents")).toMatchObject([{ upsert: [], remove: [ia] }]);
    ctx.db.close();
  });

  it("heartbeat: a fleet message at least every 2 s even when nothing changes; the task is idle-cheap without agents", () => {
    const ctx = setup();
    ctx.setLive(false);
    const viewer = ctx.open(0);
    ctx.feed.flush(0);
    expect(ctx.feed.nextDueAt(100)).toBe(2_000);
    for (const at of [2_000, 4_000, 6_000]) ctx.feed.flush(at);
    expect(viewer.texts.map((m) => m.type)).toEqual(["snapshot", "fleet", "fleet", "fleet"]);
    ctx.db.close();
  });

  it("after a wake-up with viewers open, the first flush sends each a fresh snapshot with the stored history", () => {
    const db = openFleetDb();
    const ctx = setup(db);
    const a = addAgent(db, 1_000, "a");
    connect(ctx, a.id, 1_000);
    for (let k = 0; k < 5; k++) ctx.history.sample(1_000 + k * 1_000, 0.5 + k / 10, k / 10);
    const viewer = ctx.open(6_000);
    ctx.feed.flush(6_000);
    ctx.summary(a.id, 6_100, 2);
    ctx.db.transaction(() => ctx.rows.flush());
    // Eviction: new modules over the same SQLite; the socket (hibernated) is still open.
    const woken = setup(db, new AgentRows(db.sql));
    woken.rows.loadConnected();
    const survivors = [viewer];
    const feed = new ViewerFeed({
      rows: woken.rows,
      views: new FleetViews({ rows: woken.rows, identity: (() => { const i = new FleetIdentity(db.sql, {}); i.open(undefined, false); return i; })(), clock: new FleetClock(db.sql), field: woken.field, log: logOf(db) }),
      history: new ViewerHistory(db.sql),
      viewers: () => survivors,
      agentsLive: () => true,
    });
    viewer.clear();
    expect(feed.nextDueAt(7_000)).toBe(7_000);
    feed.flush(7_000);
    expect(viewer.texts.map((m) => m.type)).toEqual(["snapshot"]);
    const snapshot = viewer.of("snapshot")[0] as SnapshotMessage;
    expect(snapshot.agents).toMatchObject([{ id: a.id, t: 6_100 }]);
    expect(snapshot.history.map((s) => s[0])).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
    db.close();
  });

  it("history: one sample a second, 10 minutes kept, older ones pruned", () => {
    const ctx = setup();
    expect(ctx.history.sample(1_000, 0.1, 0)).toBe(true);
    expect(ctx.history.sample(1_500, 0.2, 0)).toBe(false);
    let t = 1_000;
    for (let k = 0; k < 700; k++) ctx.history.sample((t += 1_000), 0.3, 0.1);
    const rows = ctx.db.sql.exec<{ n: number; oldest: number }>(`SELECT COUNT(*) AS n, MIN(ms) AS oldest FROM viewer_history`).one();
    expect(rows.oldest).toBeGreaterThanOrEqual(t - LIVE_HISTORY_MS);
    expect(rows.n).toBe(LIVE_HISTORY_MS / 1000 + 1);
    expect(ctx.history.recent(t)).toHaveLength(601);
    expect(ctx.history.sample(t + 1_000, Number.NaN, 0)).toBe(false);
    ctx.db.close();
  });

  it("viewer frames: ping → pong; anything else, too big or too many closes 1008; expiry and sign-out close 4401", () => {
    const ctx = setup();
    const v = ctx.open(0, "s1", 5_000);
    const other = ctx.open(0, "s2");
    const third = ctx.open(0, "s1");
    ctx.feed.receive(v, "ping", 0);
    expect(v.raw.at(-1)).toBe("pong");
    ctx.feed.receive(v, "pong", 10);
    expect(v.closed).toEqual({ code: 1008, reason: 'a viewer may only send "ping"' });
    const big = ctx.open(0);
    ctx.feed.receive(big, "p".repeat(65), 0);
    expect(big.closed?.code).toBe(1008);
    const chatty = ctx.open(0);
    for (let k = 0; k < 10; k++) ctx.feed.receive(chatty, "ping", 100 + k);
    expect(chatty.closed).toBeUndefined();
    ctx.feed.receive(chatty, "ping", 200);
    expect(chatty.closed?.code).toBe(1008);
    const bin = ctx.open(0);
    ctx.feed.receive(bin, new ArrayBuffer(4), 0);
    expect(bin.closed?.code).toBe(1008);
    // Expiry is checked at a flush; sign-out closes the session's viewers only.
    const expiring = ctx.open(0, "s3", 5_000);
    ctx.feed.flush(5_000);
    expect(expiring.closed?.code).toBe(VIEWER_SESSION_CLOSE);
    expect(ctx.feed.closeSession("s1")).toBe(1);
    expect(third.closed?.code).toBe(VIEWER_SESSION_CLOSE);
    expect(other.closed).toBeUndefined();
    ctx.db.close();
  });

  it("bytes per second at N agents summarizing at 2 Hz, measured over 10 s (logged, not asserted)", () => {
    const ctx = setup();
    const n = 1000;
    const ids: string[] = [];
    for (let k = 0; k < n; k++) {
      const agent = addAgent(ctx.db, 1_000, `a${k}`);
      connect(ctx, agent.id, 1_000);
      ids.push(agent.id);
    }
    const viewer = ctx.open(2_000);
    ctx.feed.flush(2_000);
    const snapshotBytes = viewer.raw.reduce((s, d) => s + (typeof d === "string" ? Buffer.byteLength(d) : d.byteLength), 0);
    let bytes = 0;
    let t = 2_000;
    let due = ctx.feed.nextDueAt(t)!;
    for (let step = 0; step < 10_000 / 50; step++) {
      t += 50;
      // Each agent every 500 ms, spread evenly.
      for (let k = step % 10; k < n; k += 10) {
        ctx.summary(ids[k]!, t, (t / 1000) * 0.5 + k);
        ctx.rows.stage(ids[k]!, { last_seen_at: t, lamport: t });
      }
      if (t >= due) {
        bytes += ctx.feed.flush(t).bytes;
        due = ctx.feed.nextDueAt(t)!;
      }
    }
    console.log(`viewer feed: ${n} agents at 2 Hz → ${(bytes / 10 / 1024).toFixed(1)} KiB/s on the live channel (snapshot ${(snapshotBytes / 1024).toFixed(0)} KiB)`);
    expect(bytes).toBeGreaterThan(0);
    ctx.db.close();
  });
});
