/**
 * A simulated fleet, pure and deterministic (seeded PRNG; no sockets, no workerd): 50 honest agents
 * with differing natural frequencies start from random phases, step their oscillators at 20 Hz with
 * the agent's own MeshOscillator (shared/kuramoto's coupling), tick their Lamport clocks on tokens,
 * sends and merges like the agent does, and send summaries at 2 Hz and records now and then. Every
 * message to and from the edge is delayed 0-400 ms at random (in order per agent, reordered across
 * agents); agents' wall clocks are skewed by up to ±250 ms. The edge side applies exactly what the
 * Fleet object applies (assessPeerClock, absorbClock, the field over agents in good standing, fieldMembers) and
 * broadcasts the mean field at 2 Hz. One agent drifts (its clock runs at 3× its declared rate from
 * 30 s on) and one replays (a clock going backwards at 40 s).
 */
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../agent/engine/prng.js";
import { MeshOscillator } from "../../agent/runtime/meshOscillator.js";
import {
  absorbClock,
  analyzeLamportDrift,
  assessPeerClock,
  CAUSAL_RULES,
  DEFAULT_STANDING_RULES,
  fieldMembers,
  FRESH_STANDING,
  LamportClock,
  type ClockMessageKind,
  type PeerStanding,
} from "../../shared/causality/index.js";
import { meanField, type PhaseReport } from "../../shared/kuramoto/index.js";
import { DEFAULT_FLEET_CONFIG, LIMITS } from "../../shared/protocol/index.js";

const HONEST = 50;
const DRIFTER = HONEST;
const REPLAYER = HONEST + 1;
const TICK_MS = 50;
const DURATION_MS = 120_000;
const DRIFT_FROM_MS = 30_000;
const REPLAY_AT_MS = 40_000;
const TOKEN_HZ = 20;
const config = DEFAULT_FLEET_CONFIG;

interface SimAgent {
  readonly id: number;
  readonly skewMs: number;
  /** Probability of a token per tick (its load). */
  readonly busy: number;
  readonly summaryPhase: number;
  readonly recordsPhase: number;
  readonly joinAt: number;
  readonly mesh: MeshOscillator;
  readonly clock: LamportClock;
  /** Arrival time of the last message in each direction: a socket delivers in order. */
  toEdgeFree: number;
  toAgentFree: number;
  joined: boolean;
}

type Wire =
  | { readonly kind: ClockMessageKind; readonly lamport: number; readonly t?: number; readonly theta?: number; readonly omega?: number; readonly phaseDrift?: number }
  | { readonly kind: "reply"; readonly lamport: number }
  | { readonly kind: "field"; readonly lamport: number; readonly r: number; readonly psi: number; readonly omega: number; readonly n: number; readonly t: number };

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly run: (now: number) => void;
}

interface Outcome {
  /** Every hard or soft flag the edge raised, with its time. */
  readonly flags: { at: number; agent: number; what: string }[];
  /** Per broadcast: its time, the members' ids. */
  readonly fields: { at: number; members: Set<number> }[];
  /** True order parameter of the honest agents' phases, every 500 ms. */
  readonly order: { at: number; r: number }[];
  /** Flags the rules replaced in issue 11 would have raised on honest agents' summaries (shadow only). */
  readonly legacyHonestFlags: number;
  readonly standings: Map<number, PeerStanding>;
  readonly fleetClock: number;
}

function simulate(seed: number): Outcome {
  const rng = new SeededRandom(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.nextUniform();
  const delay = () => uniform(0, 400);

  const agents: SimAgent[] = Array.from({ length: HONEST + 2 }, (_, id) => ({
    id,
    skewMs: uniform(-250, 250),
    busy: uniform(0, 1),
    summaryPhase: Math.floor(uniform(0, 10)),
    recordsPhase: Math.floor(uniform(0, 60)),
    joinAt: Math.floor(uniform(0, 5000) / TICK_MS) * TICK_MS,
    mesh: new MeshOscillator(uniform(0.7, 1.3), { coupling: config.coupling, maxStep: config.maxStep, fieldMaxAgeMs: 15_000 }, uniform(-Math.PI, Math.PI)),
    clock: new LamportClock(),
    toEdgeFree: 0,
    toAgentFree: 0,
    joined: false,
  }));

  // ---- a tiny event queue (ordered by time, then by insertion) ----
  const queue: Event[] = [];
  let seq = 0;
  const schedule = (at: number, run: (now: number) => void) => {
    const event = { at, seq: seq++, run };
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = queue[mid]!;
      if (q.at < at || (q.at === at && q.seq < event.seq)) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, event);
  };

  // ---- the edge: what the Fleet object does, over the same pure functions ----
  let fleetClock = 0;
  const standings = new Map<number, PeerStanding>();
  const summaries = new Map<number, { theta: number; omega: number; t: number; receivedAt: number; tokenHz: number }>();
  const legacy = new Map<number, { lamport: number; arrivedAt: number }>();
  const flags: Outcome["flags"] = [];
  const fields: Outcome["fields"] = [];
  let legacyHonestFlags = 0;
  const rules = { ...DEFAULT_STANDING_RULES, maxCausalOvershoot: config.drift.maxCausalOvershoot };

  const toAgent = (agent: SimAgent, now: number, message: Wire) => {
    agent.toAgentFree = Math.max(now + delay(), agent.toAgentFree);
    schedule(agent.toAgentFree, () => {
      // The agent merges every clock the edge sends (edgeSession's #mergeLamport), and applies fields.
      agent.clock.update(message.lamport);
      if (message.kind === "field") agent.mesh.setField({ r: message.r, psi: message.psi, omega: message.omega, n: message.n, t: message.t });
    });
  };

  const edgeReceives = (agent: SimAgent, message: Wire & { kind: ClockMessageKind }, now: number) => {
    const before = standings.get(agent.id) ?? FRESH_STANDING;
    const update = assessPeerClock(
      before,
      {
        kind: message.kind,
        lamport: message.lamport,
        tokenHz: message.kind === "summary" ? TOKEN_HZ : (summaries.get(agent.id)?.tokenHz ?? null),
        sentAt: message.t ?? null,
        now,
        localLamport: fleetClock,
        latencyMs: CAUSAL_RULES.defaultLatencyMs,
        mergeHz: config.fieldHz,
      },
      rules,
    );
    standings.set(agent.id, update.standing);
    if (update.verdict.kind !== "accept") flags.push({ at: now, agent: agent.id, what: update.verdict.kind });
    if (update.drift !== null) flags.push({ at: now, agent: agent.id, what: `drift ${update.drift}` });
    if (update.verdict.kind === "accept") {
      if (update.verdict.absorbStep !== null) fleetClock = absorbClock(fleetClock, message.lamport, update.verdict.absorbStep, LIMITS.lamportMax);
      if (message.kind === "summary") {
        const t = Math.abs(message.t! - now) <= 2000 ? message.t! : now;
        summaries.set(agent.id, { theta: message.theta!, omega: message.omega!, t, receivedAt: now, tokenHz: TOKEN_HZ });
      }
    }
    if (message.kind === "summary" && agent.id < HONEST) {
      // Shadow of the replaced rules: overshoot from arrival times, then the reference's analysis
      // with the agent's phase gap (as fleet.ts did before issue 11). Never fed back.
      const last = legacy.get(agent.id);
      if (last !== undefined) {
        const overshoot = message.lamport - (Math.max(last.lamport, fleetClock) + (TOKEN_HZ * (now - last.arrivedAt)) / 1000);
        const report = analyzeLamportDrift(
          { nodeId: "edge", lamportClock: Math.round(message.lamport - Math.max(0, overshoot)), phaseDriftRads: 0, coherence: 1, tokenGenerationHz: TOKEN_HZ },
          { nodeId: String(agent.id), lamportClock: message.lamport, phaseDriftRads: message.phaseDrift ?? 0, coherence: 1, networkLatencyMs: CAUSAL_RULES.defaultLatencyMs },
          { ...config.drift, coupling: config.coupling },
        );
        if (report.violatesCausalBound) legacyHonestFlags++;
      }
      legacy.set(agent.id, { lamport: message.lamport, arrivedAt: now });
    }
    if (message.kind !== "summary") toAgent(agent, now, { kind: "reply", lamport: fleetClock });
  };

  const toEdge = (agent: SimAgent, now: number, message: Wire & { kind: ClockMessageKind }) => {
    agent.toEdgeFree = Math.max(now + delay(), agent.toEdgeFree);
    schedule(agent.toEdgeFree, (at) => edgeReceives(agent, message, at));
  };

  const broadcast = (now: number) => {
    const candidates: (PhaseReport & { id: number; drifting: boolean })[] = [];
    for (const agent of agents) {
      const s = standings.get(agent.id);
      const summary = summaries.get(agent.id);
      if (!agent.joined || s === undefined || summary === undefined || s.quarantine !== null) continue;
      if (now - summary.receivedAt > config.peerAgeMs) continue;
      candidates.push({ id: agent.id, drifting: s.drift !== null, theta: summary.theta, omega: summary.omega, t: summary.t, weight: 1 });
    }
    const reports = fieldMembers(candidates);
    const members = new Set(reports.map((r) => r.id));
    const field = meanField(reports, now);
    fleetClock = Math.min(fleetClock + 1, LIMITS.lamportMax);
    fields.push({ at: now, members });
    for (const agent of agents) if (agent.joined) toAgent(agent, now, { kind: "field", lamport: fleetClock, r: field.r, psi: field.psi, omega: field.omega, n: field.n, t: now });
  };

  // ---- the clock ----
  const order: Outcome["order"] = [];
  for (let k = 0; k * TICK_MS <= DURATION_MS; k++) {
    const now = k * TICK_MS;
    while (queue.length > 0 && queue[0]!.at <= now) {
      const event = queue.shift()!;
      event.run(event.at);
    }
    for (const agent of agents) {
      if (now < agent.joinAt) continue;
      const agentNow = now + agent.skewMs;
      if (!agent.joined) {
        agent.joined = true;
        toEdge(agent, now, { kind: "hello", lamport: agent.clock.tick() });
        continue;
      }
      agent.mesh.step(TICK_MS / 1000, agentNow);
      const drifting = agent.id === DRIFTER && now >= DRIFT_FROM_MS;
      if (drifting) for (let i = 0; i < 3; i++) agent.clock.tick();
      else if (rng.nextUniform() < agent.busy) agent.clock.tick();
      if (k % 60 === agent.recordsPhase) toEdge(agent, now, { kind: "records", lamport: agent.clock.tick() });
      if (k % 10 === agent.summaryPhase) {
        const view = agent.mesh.view(agentNow);
        const replay = agent.id === REPLAYER && now >= REPLAY_AT_MS && now < REPLAY_AT_MS + 500;
        const lamport = replay ? agent.clock.time - 50 : agent.clock.tick();
        toEdge(agent, now, { kind: "summary", lamport, t: Math.floor(agentNow), theta: view.theta, omega: view.omega, phaseDrift: view.phaseGap });
      }
    }
    if (now % (1000 / config.fieldHz) === 0) broadcast(now);
    if (now % 500 === 0) {
      let re = 0;
      let im = 0;
      for (const agent of agents.slice(0, HONEST)) {
        re += Math.cos(agent.mesh.theta);
        im += Math.sin(agent.mesh.theta);
      }
      order.push({ at: now, r: Math.hypot(re, im) / HONEST });
    }
  }
  return { flags, fields, order, legacyHonestFlags, standings, fleetClock };
}

describe("a simulated fleet of 50 honest agents, a drifter and a replayer", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: locks (r ≥ 0.9), never flags an honest agent, never empties the field, and flags the drifter and the replayer`, () => {
      const out = simulate(seed);

      // Started incoherent, ends locked, and stays locked over the last 30 s.
      expect(out.order[0]!.r).toBeLessThan(0.5);
      const late = out.order.filter((o) => o.at >= DURATION_MS - 30_000);
      expect(Math.min(...late.map((o) => o.r))).toBeGreaterThanOrEqual(0.9);

      // No honest agent is ever flagged, by any rule.
      expect(out.flags.filter((f) => f.agent < HONEST)).toEqual([]);

      // Once everyone has joined and reported, every broadcast has every honest agent in it.
      const settled = out.fields.filter((f) => f.at >= 7000);
      expect(settled.length).toBeGreaterThan(200);
      for (const field of settled) for (let id = 0; id < HONEST; id++) expect(field.members.has(id), `agent ${id} at ${field.at} ms`).toBe(true);
      expect(Math.min(...out.fields.filter((f) => f.at >= 1000).map((f) => f.members.size))).toBeGreaterThan(0);

      // The drifter: flagged within 10 s of starting to drift, never before, still flagged at the end, never as a jump.
      const drifter = out.flags.filter((f) => f.agent === DRIFTER);
      expect(drifter[0]).toMatchObject({ what: "drift flagged" });
      expect(drifter[0]!.at).toBeGreaterThanOrEqual(DRIFT_FROM_MS);
      expect(drifter[0]!.at).toBeLessThan(DRIFT_FROM_MS + 10_000);
      expect(drifter.map((f) => f.what)).toEqual(["drift flagged"]);
      expect(out.standings.get(DRIFTER)!.drift).toMatch(/^sustained Lamport overshoot/);
      expect(out.fields.at(-1)!.members.has(DRIFTER)).toBe(false);

      // The replayer: quarantined for the replay (and let back in after three good messages).
      const replayer = out.flags.filter((f) => f.agent === REPLAYER);
      expect(replayer.map((f) => f.what)).toEqual(["replay"]);
      expect(replayer[0]!.at).toBeGreaterThanOrEqual(REPLAY_AT_MS);
      expect(out.fields.at(-1)!.members.has(REPLAYER)).toBe(true);

      expect(out.fleetClock).toBeLessThanOrEqual(LIMITS.lamportMax);
    });
  }

  it("is sensitive: the per-summary phase-gap and arrival-time overshoot rules replaced in issue 11 flag honest agents in the same traffic", () => {
    expect(simulate(1).legacyHonestFlags).toBeGreaterThan(100);
  });
});
