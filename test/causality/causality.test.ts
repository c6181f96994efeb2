import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  analyzeLamportDrift,
  assessPeerClock,
  couplingWeightFromDrift,
  dynamicCausalBound,
  absorbClock,
  FRESH_STANDING,
  LamportClock,
  type PeerStanding,
} from "../../shared/causality/index.js";

const golden = JSON.parse(readFileSync(new URL("../fixtures/engine.json", import.meta.url), "utf8")).lamportDrift;

describe("LamportClock", () => {
  it("ticks +1 and receives max(L, remote) + 1, never backwards", () => {
    const clock = new LamportClock();
    expect(clock.tick()).toBe(1);
    expect(clock.update(10)).toBe(11);
    expect(clock.update(3)).toBe(12);
    clock.restore(5);
    expect(clock.time).toBe(12);
    clock.restore(40);
    expect(clock.time).toBe(40);
    expect(() => clock.update(-1)).toThrow(RangeError);
  });
});

describe("dynamicCausalBound", () => {
  it("is min(max(16·max(hz·lat/1000, 0.1), 32), 128)", () => {
    expect(dynamicCausalBound(10, 100)).toEqual({ expected: 1, bound: 32 });
    expect(dynamicCausalBound(1000, 1000)).toEqual({ expected: 1000, bound: 128 });
    expect(dynamicCausalBound(20, 500)).toEqual({ expected: 10, bound: 128 });
    expect(dynamicCausalBound(4, 1000).bound).toBe(64);
    expect(dynamicCausalBound(0, 0)).toEqual({ expected: 0.1, bound: 32 });
  });
});

describe("analyzeLamportDrift (golden vector from the reference)", () => {
  it("reproduces the reference report on its sample telemetry", () => {
    const [fast, slow] = ["inf-01", "pi-zero-01"].map((id) => golden.telemetry.nodes.find((n: { node_id: string }) => n.node_id === id).kairos_metrics);
    const report = analyzeLamportDrift(
      { nodeId: "inf-01", lamportClock: fast.lamport_clock, phaseDriftRads: fast.phase_drift_rads, coherence: fast.coherence_t_tau, tokenGenerationHz: fast.token_generation_hz },
      { nodeId: "pi-zero-01", lamportClock: slow.lamport_clock, phaseDriftRads: slow.phase_drift_rads, coherence: slow.coherence_t_tau, networkLatencyMs: slow.network_latency_ms },
    );
    const want = golden.report;
    const close = (got: number, expected: number) => expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    expect(report.fastNodeId).toBe(want.fast_node_id);
    expect(report.slowNodeId).toBe(want.slow_node_id);
    expect(report.lamportDelta).toBe(want.lamport_delta);
    close(report.latencyMs, want.latency_ms);
    close(report.tokenGenerationHz, want.token_generation_hz);
    close(report.expectedTicksDuringLatency, want.expected_ticks_during_latency);
    close(report.causalOvershootRatio, want.causal_overshoot_ratio);
    close(report.phaseGapRads, want.phase_gap_rads);
    close(report.rawKuramotoStepRads, want.raw_kuramoto_step_rads);
    close(report.coherenceGap, want.coherence_gap);
    close(report.slowNodeCoherence, want.slow_node_coherence);
    expect(report.violatesCausalBound).toBe(want.violates_causal_bound);
    expect(report.reason).toBe(want.reason);
    expect(couplingWeightFromDrift(report)).toBe(0);
  });

  it("is within bounds for close, coherent peers", () => {
    const report = analyzeLamportDrift(
      { nodeId: "a", lamportClock: 100, phaseDriftRads: 0.1, coherence: 0.9, tokenGenerationHz: 20 },
      { nodeId: "b", lamportClock: 98, phaseDriftRads: 0.2, coherence: 0.8, networkLatencyMs: 100 },
    );
    expect(report.violatesCausalBound).toBe(false);
    expect(report.reason).toBe("within causal coupling bounds");
    expect(couplingWeightFromDrift(report)).toBe(1);
  });
});

describe("absorbClock", () => {
  it("moves the coordinator's clock towards a remote one by at most the step, and never past the maximum", () => {
    expect(absorbClock(100, 150, 128, 2 ** 48)).toBe(151);
    expect(absorbClock(100, 2 ** 48, 128, 2 ** 48)).toBe(229);
    expect(absorbClock(100, Number.MAX_SAFE_INTEGER, 128, 2 ** 48)).toBe(229);
    // A remote clock already behind does not tick it.
    expect(absorbClock(100, 40, 128, 2 ** 48)).toBe(100);
    expect(absorbClock(100, 100, 128, 2 ** 48)).toBe(101);
    expect(absorbClock(2 ** 48, 2 ** 48, 128, 2 ** 48)).toBe(2 ** 48);
  });
});

describe("assessPeerClock", () => {
  const standing = (over: Partial<PeerStanding>): PeerStanding => ({ ...FRESH_STANDING, ...over });
  // Records carry no timestamp: elapsed time is the arrival gap. 10 Hz, no broadcasts merged.
  const records = (lamport: number, now: number, localLamport = 0) =>
    ({ kind: "records", lamport, tokenHz: 10, sentAt: null, now, localLamport, latencyMs: 100 }) as const;
  const summary = (lamport: number, sentAt: number, now: number, tokenHz = 20) =>
    ({ kind: "summary", lamport, tokenHz, sentAt, now, localLamport: 0, latencyMs: 100 }) as const;

  it("accepts the first message as the baseline, whatever its clock, and allows absorbing only a bounded step", () => {
    const update = assessPeerClock(FRESH_STANDING, records(1_000_000, 0));
    expect(update.verdict).toEqual({ kind: "accept", lifted: false, absorbStep: 32 });
    expect(update.standing).toMatchObject({ lamport: 1_000_000, arrivedAt: 0, quarantine: null });
  });

  it("quarantines a replay within a session without moving the baseline", () => {
    const base = standing({ lamport: 50, at: 0, arrivedAt: 0, healthyStreak: 5 });
    for (const lamport of [50, 20]) {
      const update = assessPeerClock(base, records(lamport, 1000));
      expect(update.verdict.kind).toBe("replay");
      expect(update.standing.quarantine).toMatch(/^non-monotonic Lamport replay/);
      expect(update.standing.lamport).toBe(50);
      expect(update.standing.healthyStreak).toBe(0);
    }
  });

  it("takes a lower clock in a hello as a restarted agent, not a replay", () => {
    const base = standing({ lamport: 5000, at: 0, arrivedAt: 0, healthyStreak: 5 });
    const update = assessPeerClock(base, { kind: "hello", lamport: 1, tokenHz: null, sentAt: null, now: 1000, localLamport: 5100, latencyMs: 100 });
    expect(update.verdict.kind).toBe("accept");
    expect(update.standing).toMatchObject({ lamport: 1, at: null, quarantine: null });
  });

  it("allows the peer's own progress, a message's ticks and what it saw from us, and quarantines a jump beyond the bound", () => {
    const base = standing({ lamport: 100, at: 0, arrivedAt: 0, healthyStreak: 1 });
    // 10 Hz for 2 s: 20 ticks, plus 2 for the message, plus the bound 32.
    expect(assessPeerClock(base, records(154, 2000)).verdict.kind).toBe("accept");
    const jump = assessPeerClock(base, records(155, 2000));
    expect(jump.verdict.kind).toBe("jump");
    expect(jump.standing.quarantine).toBe("Lamport jump 33 exceeds dynamic causal bound 32 (expected 1.00 ticks)");
    // Merging the coordinator's clock (5000) is legitimate.
    expect(assessPeerClock(base, records(5010, 100, 5000)).verdict.kind).toBe("accept");
  });

  it("does not believe a claimed rate above maxTokenHz (100)", () => {
    const base = standing({ lamport: 100, at: 0, arrivedAt: 0, healthyStreak: 1 });
    const claim = (lamport: number) => assessPeerClock(base, { ...records(lamport, 1000), tokenHz: 1_000_000 });
    // 100 Hz × 1 s = 100 ticks of progress, 2 for the message, plus the bound capped at 128.
    expect(claim(100 + 100 + 2 + 128).verdict.kind).toBe("accept");
    expect(claim(100 + 100 + 2 + 129).verdict.kind).toBe("jump");
  });

  it("measures elapsed time by the peer's own summary timestamps, not by jittered arrivals", () => {
    const base = standing({ lamport: 100, at: 10_000, arrivedAt: 10_400, healthyStreak: 5 });
    // Sampled 500 ms later (10 ticks at 20 Hz, +1 send) but delivered only 100 ms after the previous one.
    const update = assessPeerClock(base, summary(111, 10_500, 10_500));
    expect(update.verdict.kind).toBe("accept");
    expect(update.overshootTicks).toBeLessThanOrEqual(0);
  });

  it("clamps a claimed timestamp to [previous, arrival + 1 s], so a peer cannot buy time", () => {
    const base = standing({ lamport: 100, at: 10_000, arrivedAt: 10_000, healthyStreak: 5 });
    // Claims 60 s have passed when only 0.5 s have: at most 1.5 s count (30 ticks at 20 Hz).
    const far = assessPeerClock(base, summary(100 + 30 + 2 + 32, 70_000, 10_500));
    expect(far.standing.at).toBe(11_500);
    expect(far.verdict.kind).toBe("accept");
    expect(assessPeerClock(base, summary(100 + 30 + 2 + 33, 70_000, 10_500)).verdict.kind).toBe("jump");
    // A timestamp going backwards counts as no time at all.
    expect(assessPeerClock(base, summary(101, 5_000, 10_500)).standing.at).toBe(10_000);
  });

  it("lifts the quarantine after three good messages in a row", () => {
    let s = standing({ lamport: 10, at: 0, arrivedAt: 0, quarantine: "x", healthyStreak: 0 });
    const lifted: boolean[] = [];
    for (let i = 1; i <= 3; i++) {
      const update = assessPeerClock(s, records(10 + i, i * 500));
      s = update.standing;
      lifted.push(update.verdict.kind === "accept" && update.verdict.lifted);
    }
    expect(lifted).toEqual([false, false, true]);
    expect(s.quarantine).toBeNull();
  });

  it("re-baselines after a jump so the peer can recover", () => {
    const base = standing({ lamport: 10, at: 0, arrivedAt: 0, healthyStreak: 3 });
    const jumped = assessPeerClock(base, records(10_000, 500)).standing;
    expect(jumped.lamport).toBe(10_000);
    expect(assessPeerClock(jumped, records(10_005, 1000)).verdict.kind).toBe("accept");
  });

  it("flags sustained drift only after a net 4 violating summaries, and clears it only after a net 8 clean ones", () => {
    // Budget per summary at 20 Hz: 4 × max(20 × 0.1, 1) = 8 ticks beyond the declared rate.
    let s = standing({ lamport: 0, at: 0, arrivedAt: 0, healthyStreak: 5 });
    let lamport = 0;
    const step = (i: number, ticks: number) => {
      lamport += ticks;
      const update = assessPeerClock(s, summary(lamport, i * 500, i * 500));
      expect(update.verdict.kind).toBe("accept");
      s = update.standing;
      return update.drift;
    };
    const run = (from: number, ticks: number[]) => ticks.map((t, k) => step(from + k, t));
    // Honest: 10 tokens + the message's ticks, with isolated outliers that never add up.
    const honest = run(1, [12, 12, 30, 12, 12, 30, 12, 30, 12, 12, 30, 30, 12, 12, 12]);
    expect(honest.every((c) => c === null)).toBe(true);
    expect(s.drift).toBeNull();
    // Sustained: violations with an occasional clean interval still flag, at a net 4.
    const drifting = run(16, [30, 30, 30, 12, 30, 30, 30]);
    expect(drifting).toEqual([null, null, null, null, null, "flagged", null]);
    expect(s.drift).toMatch(/^sustained Lamport overshoot/);
    // Recovery: a net 8 clean summaries; one violation on the way sets it back by one.
    const recovery = run(23, [12, 12, 12, 12, 12, 12, 12, 30, 12, 12]);
    expect(recovery.indexOf("cleared")).toBe(9);
    expect(recovery.filter((c) => c !== null)).toEqual(["cleared"]);
    expect(s.drift).toBeNull();
  });

  it("counts the ticks of records sent between summaries towards the interval's drift", () => {
    let s = standing({ lamport: 0, at: 0, arrivedAt: 0, healthyStreak: 5 });
    let lamport = 0;
    const flags: (string | null)[] = [];
    for (let i = 1; i <= 6; i++) {
      // A drifter that resets its baseline with records just before each summary: 25 extra ticks per interval.
      lamport += 30;
      s = assessPeerClock(s, { kind: "records", lamport, tokenHz: 20, sentAt: null, now: i * 500 - 20, localLamport: 0, latencyMs: 100 }).standing;
      lamport += 5;
      const update = assessPeerClock(s, summary(lamport, i * 500, i * 500));
      s = update.standing;
      flags.push(update.drift);
    }
    expect(flags).toContain("flagged");
  });
});
