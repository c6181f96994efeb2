/**
 * The browser's live store and routes, in Node (both are DOM-free): frames encoded by the edge's own
 * encoder (shared/dashboard) and messages in the contract's shapes go through parse/decode into the
 * store, as the live client feeds it.
 */
import { describe, expect, it } from "vitest";
import { encodePhaseFrame, parseLiveMessage, type LiveAgent, type LiveFleet } from "../../shared/dashboard/index.js";
import { decodePhaseFrame } from "../../shared/dashboard/phase-frame.js";
import { PhaseHistory } from "../../dashboard/live/phase-history.js";
import { displayStatus, FleetStore, R_WINDOW_MS, thetaAt, wrapAngle } from "../../dashboard/live/store.js";
import { parseRoute } from "../../dashboard/route-parse.js";

const NOW = Date.UTC(2026, 11, 6, 4, 0, 0);

const fleet: LiveFleet = {
  fleetId: "default",
  origin: "127.0.0.1/fleet/default",
  audience: "urn:becomingone:fleet:default",
  config: { version: 1, coupling: 2.5, summaryHz: 2, fieldHz: 2, maxStep: 0.05, peerAgeMs: 5000, offlineAfterMs: 15000, drift: { maxCausalOvershoot: 4, maxPhaseGap: 0.5, minPeerCoherence: 0 } },
  lamport: 1,
  agents: { total: 2, active: 2, pending: 0, revoked: 0, online: 2, quarantined: 0 },
  field: { r: 0.5, psi: 1, omega: 1, n: 2, t: NOW },
  log: { size: 0, checkpoint: null },
};

function agent(i: number, over: Partial<LiveAgent> = {}): LiveAgent {
  return {
    i, id: `ag_${String(i).padStart(32, "0")}`, name: `pi-${i}`, hardware: null, status: "active", online: true, connected: true, quarantine: null,
    lastSeenAt: NOW, lamport: 1, nextSeq: 0, agentLogSize: 0, tokenHz: 20, coherence: 0.5, theta: 1, omega: 2, t: NOW, ...over,
  };
}

function snapshot(store: FleetStore, agents: LiveAgent[], history: [number, number, number][] = []): void {
  store.apply(parseLiveMessage(JSON.stringify({ type: "snapshot", at: NOW, fleet, agents, history })));
}

describe("live store", () => {
  it("takes a snapshot, applies phase frames in place by index, and keeps each agent's history", () => {
    const store = new FleetStore();
    snapshot(store, [agent(0), agent(1)]);
    const before = store.agentsVersion.peek();
    const frame = encodePhaseFrame(NOW + 500, [{ i: 1, theta: 7, omega: 3, coherence: 0.9, t: NOW + 480 }, { i: 9, theta: 1, omega: 1, coherence: 1, t: NOW }]);
    store.applyFrame(decodePhaseFrame(frame));
    const one = store.byId.get(agent(1).id)!;
    expect(one.theta).toBeCloseTo(wrapAngle(7), 3);
    expect(one.omega).toBeCloseTo(3, 5);
    expect(one.coherence).toBeCloseTo(0.9, 2);
    expect(one.t).toBe(NOW + 480);
    expect(store.byI.get(0)!.theta).toBe(1); // untouched
    expect(store.byI.size).toBe(2); // an unknown index is ignored
    expect(store.agentsVersion.peek()).toBeGreaterThan(before);
    const [xs, thetas] = store.history(agent(1).id)!.series(NOW - 1000);
    expect(xs).toEqual([NOW / 1000, (NOW + 480) / 1000]);
    expect(thetas[1]).toBeCloseTo(wrapAngle(7), 3);
  });

  it("applies removals before upserts, and a reused index maps to the new agent only", () => {
    const store = new FleetStore();
    snapshot(store, [agent(0), agent(1)]);
    const replacement = agent(1, { id: "ag_new", name: "new" });
    store.apply(parseLiveMessage(JSON.stringify({ type: "agents", at: NOW + 1, upsert: [replacement], remove: [1] })));
    expect(store.byId.has(agent(1).id)).toBe(false);
    expect(store.byI.get(1)!.id).toBe("ag_new");
    store.apply(parseLiveMessage(JSON.stringify({ type: "agents", at: NOW + 2, upsert: [], remove: [0] })));
    expect([...store.byI.keys()]).toEqual([1]);
  });

  it("wraps the edge's unwrapped θ, and extrapolates by ω only while online (at most 10 s ahead)", () => {
    const store = new FleetStore();
    snapshot(store, [agent(0, { theta: -1 }), agent(1, { online: false, theta: 2 })]);
    expect(store.byI.get(0)!.theta).toBeCloseTo(2 * Math.PI - 1, 9);
    expect(thetaAt(store.byI.get(0)!, NOW + 1000)).toBeCloseTo(wrapAngle(-1 + 2), 9);
    expect(thetaAt(store.byI.get(0)!, NOW + 60_000)).toBeCloseTo(wrapAngle(-1 + 2 * 10), 9);
    expect(thetaAt(store.byI.get(1)!, NOW + 5000)).toBe(2);
  });

  it("derives the display status: revoked, pending, quarantined, online, offline", () => {
    expect(displayStatus(agent(0, { status: "revoked" }))).toBe("revoked");
    expect(displayStatus(agent(0, { status: "pending" }))).toBe("pending");
    expect(displayStatus(agent(0, { quarantine: { reason: "x", since: NOW } }))).toBe("quarantined");
    expect(displayStatus(agent(0))).toBe("online");
    expect(displayStatus(agent(0, { online: false }))).toBe("offline");
  });

  it("keeps r over the last 10 minutes, appending fleet samples in time order", () => {
    const store = new FleetStore();
    snapshot(store, [], [[NOW - R_WINDOW_MS - 1000, 0.1, 0], [NOW - 1000, 0.2, 0]]);
    expect(store.rHistory.map((s) => s[1])).toEqual([0.2]);
    store.apply(parseLiveMessage(JSON.stringify({ type: "fleet", at: NOW + 1000, fleet, sample: [NOW + 1000, 0.3, 0] })));
    store.apply(parseLiveMessage(JSON.stringify({ type: "fleet", at: NOW + 1500, fleet, sample: [NOW + 1000, 0.9, 0] })));
    expect(store.rHistory.map((s) => s[1])).toEqual([0.2, 0.3]);
  });
});

describe("phase history ring", () => {
  it("keeps the newest 512 points in order and ignores time going backwards", () => {
    const h = new PhaseHistory();
    for (let k = 0; k < 600; k++) h.push(k, k / 100, 0.5);
    h.push(10, 0, 0);
    expect(h.length).toBe(512);
    const [xs] = h.series(0);
    expect(xs[0]).toBe(88 / 1000);
    expect(xs[xs.length - 1]).toBe(599 / 1000);
  });
});

describe("routes", () => {
  it("maps the contract's paths to views and anything else to not-found", () => {
    expect(parseRoute("/")).toEqual({ view: "overview" });
    expect(parseRoute("/agents/")).toEqual({ view: "agents" });
    expect(parseRoute("/agents/ag_0123")).toEqual({ view: "agent", id: "ag_0123" });
    expect(parseRoute("/log/42")).toEqual({ view: "log", index: 42 });
    expect(parseRoute("/log")).toEqual({ view: "log", index: null });
    for (const view of ["tokens", "webhooks", "config", "sign-in"]) expect(parseRoute(`/${view}`)).toEqual({ view });
    expect(parseRoute("/agents/a%2Fb").view).toBe("not-found");
    expect(parseRoute("/agents/%E0%A4%A").view).toBe("not-found");
    expect(parseRoute("/log/-1").view).toBe("not-found");
    expect(parseRoute("/v1/agents").view).toBe("not-found");
  });
});
