import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  analyzeLamportDrift,
  assessPeerClock,
  couplingWeightFromDrift,
  dynamicCausalBound,
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

describe("assessPeerClock", () => {
  const input = (lamport: number, now: number, localLamport = 0) => ({ lamport, tokenHz: 10, now, localLamport, latencyMs: 100 });

  it("accepts the first message as the baseline, whatever its clock", () => {
    const update = assessPeerClock(FRESH_STANDING, input(1_000_000, 0));
    expect(update.verdict).toEqual({ kind: "accept", lifted: false });
    expect(update.standing).toMatchObject({ lamport: 1_000_000, at: 0, quarantine: null });
  });

  it("quarantines a replay without moving the baseline", () => {
    const base: PeerStanding = { lamport: 50, at: 0, quarantine: null, healthyStreak: 5 };
    for (const lamport of [50, 20]) {
      const update = assessPeerClock(base, input(lamport, 1000));
      expect(update.verdict.kind).toBe("replay");
      expect(update.standing.quarantine).toMatch(/^non-monotonic Lamport replay/);
      expect(update.standing.lamport).toBe(50);
      expect(update.standing.healthyStreak).toBe(0);
    }
  });

  it("allows the peer's own progress and what it saw from us, and quarantines a jump beyond the bound", () => {
    const base: PeerStanding = { lamport: 100, at: 0, quarantine: null, healthyStreak: 1 };
    // 10 Hz for 2 s: 20 ticks expected, plus the bound 32.
    expect(assessPeerClock(base, input(152, 2000)).verdict.kind).toBe("accept");
    const jump = assessPeerClock(base, input(153, 2000));
    expect(jump.verdict.kind).toBe("jump");
    expect(jump.standing.quarantine).toBe("Lamport jump 33 exceeds dynamic causal bound 32 (expected 1.00 ticks)");
    // Merging the coordinator's clock (5000) is legitimate.
    expect(assessPeerClock(base, input(5010, 100, 5000)).verdict.kind).toBe("accept");
  });

  it("does not believe a claimed rate above maxTokenHz (100)", () => {
    const base: PeerStanding = { lamport: 100, at: 0, quarantine: null, healthyStreak: 1 };
    const claim = (lamport: number) => assessPeerClock(base, { lamport, tokenHz: 1_000_000, now: 1000, localLamport: 0, latencyMs: 100 });
    // 100 Hz × 1 s = 100 ticks of progress, plus the bound capped at 128.
    expect(claim(100 + 100 + 128).verdict.kind).toBe("accept");
    expect(claim(100 + 100 + 129).verdict.kind).toBe("jump");
  });

  it("lifts the quarantine after three good messages in a row", () => {
    let standing: PeerStanding = { lamport: 10, at: 0, quarantine: "x", healthyStreak: 0 };
    const lifted: boolean[] = [];
    for (let i = 1; i <= 3; i++) {
      const update = assessPeerClock(standing, input(10 + i, i * 500));
      standing = update.standing;
      lifted.push(update.verdict.kind === "accept" && update.verdict.lifted);
    }
    expect(lifted).toEqual([false, false, true]);
    expect(standing.quarantine).toBeNull();
  });

  it("re-baselines after a jump so the peer can recover", () => {
    const base: PeerStanding = { lamport: 10, at: 0, quarantine: null, healthyStreak: 3 };
    const jumped = assessPeerClock(base, input(10_000, 500)).standing;
    expect(jumped.lamport).toBe(10_000);
    expect(assessPeerClock(jumped, input(10_005, 1000)).verdict.kind).toBe("accept");
  });
});
