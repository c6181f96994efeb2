import { describe, expect, it } from "vitest";
import {
  CoherenceCalculator,
  CollapseCondition,
  DISSIPATION_REASON,
  EmissaryTransducer,
  MasterTransducer,
  PhaseHistory,
  SyncLayer,
  VectorClock,
  transducerHistorySize,
} from "../../agent/engine/index.js";

const START = 1_780_000_000;

function pair(now = START) {
  const clock = () => now;
  return { master: new MasterTransducer({}, { now: clock, startTime: START }), emissary: new EmissaryTransducer({}, { now: clock, startTime: START }) };
}

describe("transducers", () => {
  it("fresh Master and Emissary have coherence 1, also after reset", () => {
    const { master, emissary } = pair();
    expect(master.coherence).toBe(1);
    expect(emissary.coherence).toBe(1);
    master.integrate("a", START + 1);
    emissary.respond("a", START + 1);
    master.reset(START + 2);
    emissary.reset(START + 2);
    expect(master.coherence).toBe(1);
    expect(emissary.coherence).toBe(1);
    expect(master.engine.integrationCount).toBe(0);
  });

  it("track the input's mean phasor exactly as PhaseHistory.setPhase computes it from the angles", () => {
    const { master } = pair();
    const reference = new PhaseHistory({ omega: master.config.omega, historySize: 10 }, "ref", START);
    for (const [i, text] of ["alpha", "β-γ", "", "a much longer input with several words"].entries()) {
      const result = master.integrate(text, START + 1 + i);
      const expected = reference.setPhase(result.angles, START + 1 + i).value;
      expect(master.phase.current.value).toEqual(expected);
    }
  });

  it("use the reference's configuration (history 120 and 1000, ω, thresholds)", () => {
    const { master, emissary } = pair();
    expect(master.engine.config.historySize).toBe(120);
    expect(emissary.engine.config.historySize).toBe(1000);
    expect(master.engine.config.omega).toBe(2 * 3.14159);
    expect(emissary.engine.config.omega).toBeCloseTo(20 * Math.PI, 12);
    expect(master.engine.config.coherenceThreshold).toBe(0.9);
    expect(emissary.engine.config.coherenceThreshold).toBe(0.7);
    expect(master.engine.config.minSamples).toBe(10);
    // tau > tauMax gave 0 in the reference (T frozen at 1); the minimum is 2.
    expect(transducerHistorySize({ tauMax: 1, tauScale: 5, historyMultiplier: 2 })).toBe(2);
  });

  it("Master.integrate works (the reference raised on every call) and witnesses on its interval", () => {
    const { master } = pair();
    const r1 = master.integrate("hello", START + 1);
    expect(r1.integrationCount).toBe(1);
    expect(r1.witnessed).toBe(true);
    const r2 = master.integrate("world", START + 1.05);
    expect(r2.witnessed).toBe(r2.collapsed);
    const r3 = master.integrate("again", START + 1.2);
    expect(r3.witnessed).toBe(true);
    expect(master.witnessLog.at(-1)!.integrationCount).toBe(3);
    // The phase track moves with the inputs, so velocity is real (the reference's was always 0).
    expect(master.phase.length).toBe(4);
    expect(Number.isFinite(master.phase.velocity)).toBe(true);
  });

  it("Emissary acts when coherence ≥ 0.8·I_c or collapsed, and not otherwise", () => {
    const { emissary } = pair();
    let acted = 0;
    let quiet = 0;
    for (let i = 0; i < 60; i++) {
      const r = emissary.respond(`word${i}`, START + 1 + i * 0.05);
      const should = r.collapsed || r.coherence >= 0.8 * 0.7;
      expect(r.action !== null).toBe(should);
      if (r.action) {
        acted++;
        expect(r.action.type).toBe("response");
        expect(r.action.action).toBe(`Emissary response at coherence=${r.coherence.toFixed(3)}`);
      } else quiet++;
    }
    expect(acted).toBeGreaterThan(0);
    expect(quiet).toBeGreaterThan(0);
    expect(emissary.actions).toHaveLength(acted);
  });

  it("the transducer's collapse is released when coherence decays (with a warning)", () => {
    const master = new MasterTransducer({ tauScale: 0.05, tauMax: 5, omega: 0, coherenceThreshold: 0.8, minSamples: 1, noiseStd: 0 }, { startTime: START });
    const first = master.integrate("same", START + 0.1);
    expect(first.collapsed).toBe(true);
    let released = false;
    for (let i = 0; i < 40 && !released; i++) {
      const r = master.integrate(`different ${i}`, START + 0.2 + i * 0.1);
      if (r.collapseWarning) {
        released = true;
        expect(r.collapsed).toBe(false);
        expect(r.engineCollapsed).toBe(true);
      }
    }
    expect(released).toBe(true);
  });
});

describe("sync layer", () => {
  it("fresh: not aligned, not collapsed, T_sync 0; one sync on fresh engines: aligned, collapsed, 0.990025", () => {
    const { master, emissary } = pair();
    const sync = new SyncLayer(master, emissary);
    // These tests pin the reference's rule: the engine's classes default to it (the agent runs "fleet").
    expect(sync.config.rule).toBe("reference");
    expect(sync.aligned).toBe(false);
    expect(sync.collapsed).toBe(false);
    expect(sync.tSync).toEqual({ re: 0, im: 0 });
    const rec = sync.synchronize(START + 1);
    expect(rec.aligned).toBe(true);
    expect(rec.collapsed).toBe(true);
    expect(rec.synchronizedCoherence).toBeCloseTo(0.990025, 12);
    expect(rec.causalAnchor["sync-layer"]).toBe(1);
    expect(sync.collapseTimestamp).toBe(START + 1);
  });

  it("dissipates input offered while misaligned beyond 2×0.1: the Master rejects it, the reason is recorded", () => {
    const { master, emissary } = pair();
    const sync = new SyncLayer(master, emissary);
    // Drive the Emissary alone so its |T| falls far below the fresh Master's 1.
    for (let i = 0; i < 40; i++) emissary.respond(`noise ${i}`, START + 1 + i * 0.013);
    const masterCount = master.engine.integrationCount;
    const emissaryCount = emissary.engine.integrationCount;
    const r = sync.offer("ignored?", START + 2);
    expect(r.accepted).toBe(false);
    if (!r.accepted) {
      expect(r.dissipation.reason).toBe(DISSIPATION_REASON);
      expect(r.dissipation.phaseDifference).toBeGreaterThan(0.2);
      expect(r.dissipation.inputLength).toBe(8);
    }
    expect(master.engine.integrationCount).toBe(masterCount);
    // The Emissary still responds, so the pair can re-align (rejecting for both froze them forever).
    expect(emissary.engine.integrationCount).toBe(emissaryCount + 1);
    expect(sync.dissipations.length).toBeGreaterThanOrEqual(1);
  });

  it("the Emissary keeps moving while the Master rejects, so part of a short stream is accepted (over an hour the pair settles misaligned: docs/engine.md, Rates by stream)", () => {
    const { master, emissary } = pair();
    const sync = new SyncLayer(master, emissary);
    let accepted = 0;
    let dissipated = 0;
    for (let i = 0; i < 600; i++) {
      const r = sync.offer(`w${i % 97}`, START + 1 + i * 0.05);
      if (r.accepted) accepted++;
      else dissipated++;
    }
    expect(dissipated).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(60);
    expect(master.engine.integrationCount).toBe(accepted);
    expect(emissary.engine.integrationCount).toBe(600);
  });

  it("accepts input while aligned and feeds both transducers", () => {
    const { master, emissary } = pair();
    const sync = new SyncLayer(master, emissary);
    const r = sync.offer("hello", START + 1);
    expect(r.accepted).toBe(true);
    expect(master.engine.integrationCount).toBe(1);
    expect(emissary.engine.integrationCount).toBe(1);
    expect(sync.history).toHaveLength(2);
  });

  it("damps T_sync by 0.995 while collapsed, recomputed per call (not latched)", () => {
    const { master, emissary } = pair();
    const sync = new SyncLayer(master, emissary);
    sync.synchronize(START + 1);
    expect(sync.collapsed).toBe(true);
    for (let i = 0; i < 40; i++) {
      master.integrate(`m${i}`, START + 2 + i);
      emissary.respond(`e${i}`, START + 2 + i * 0.3);
    }
    const rec = sync.synchronize(START + 50);
    const mean = [(rec.tMaster[0] + rec.tEmissary[0]) / 2, (rec.tMaster[1] + rec.tEmissary[1]) / 2] as const;
    const raw = mean[0] ** 2 + mean[1] ** 2;
    expect(raw).toBeLessThan(0.8);
    expect(rec.collapsed).toBe(false);
    expect(rec.synchronizedCoherence).toBeCloseTo(raw, 15);
    expect(sync.collapsed).toBe(false);
    // Collapsed again when both read 1 (fresh): damped once, by 0.995.
    master.reset(START + 60);
    emissary.reset(START + 60);
    const again = sync.synchronize(START + 61);
    expect(again.collapsed).toBe(true);
    expect(again.tSync[0]).toBeCloseTo(0.995, 15);
  });

  it("vector clocks merge element-wise and tick", () => {
    const a = new VectorClock("a");
    const b = new VectorClock("b");
    a.increment();
    a.increment();
    b.increment();
    b.merge(a.snapshot());
    expect(b.snapshot()).toEqual({ a: 2, b: 2 });
    expect(a.happenedBefore(b.snapshot())).toBe(true);
    expect(b.happenedBefore(a.snapshot())).toBe(false);
    b.merge({ a: -5, c: 1.5 } as Record<string, number>);
    expect(b.get("c")).toBe(0);
  });
});

describe("supporting math", () => {
  it("phase history: advance rotates by ω·dt, stamps current + dt, velocity ≈ ω", () => {
    const p = new PhaseHistory({ omega: 1, dampening: 1 }, "p", START);
    for (let i = 0; i < 5; i++) p.advance(0.1);
    expect(p.current.timestamp).toBeCloseTo(START + 0.5, 5);
    expect(p.velocity).toBeCloseTo(1, 4);
    const s = new PhaseHistory({ historySize: 3 }, "s", START);
    for (let i = 0; i < 5; i++) s.setPhase({ re: 0, im: 1 }, START + i);
    expect(s.length).toBe(3);
  });

  it("coherence calculator: window, rolling mean/std, least-squares trend", () => {
    const c = new CoherenceCalculator(100);
    for (let i = 0; i < 150; i++) c.update({ re: Math.sqrt(i / 200), im: 0 });
    expect(c.history).toHaveLength(100);
    expect(c.coherence).toBeCloseTo(149 / 200, 12);
    expect(c.trend(10)).toBeCloseTo(1 / 200, 12);
    expect(c.rollingAverage(3)).toBeCloseTo(148 / 200, 12);
    expect(c.rollingStd(3)).toBeCloseTo(Math.sqrt(2 / 3) / 200, 12);
    expect(new CoherenceCalculator().trend(10)).toBe(0);
  });

  it("collapse condition: collapses, maintains, releases with a warning; duration only while collapsed", () => {
    const c = new CollapseCondition(0.9);
    expect(c.evaluate(0.5, 0).transition).toBe("below");
    expect(c.evaluate(0.95, 10).transition).toBe("collapsed");
    expect(c.evaluate(0.92, 12).transition).toBe("maintained");
    expect(c.duration(15)).toBe(5);
    const r = c.evaluate(0.3, 20);
    expect(r.transition).toBe("released");
    expect(r.warning).toMatch(/below 0.9/);
    expect(c.duration(25)).toBe(0);
    c.forceCollapse(30);
    expect(c.collapseCoherence).toBe(0.9);
    c.reset();
    expect(c.collapsed).toBe(false);
  });
});
