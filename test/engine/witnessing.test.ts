import { describe, expect, it } from "vitest";
import { WITNESSING_MODES, WitnessError, WitnessingLayer, mutualWitnessing } from "../../agent/engine/index.js";

const T0 = 1_780_000_000;

describe("witnessing", () => {
  it("creates a witness in every mode; observe keeps the witness id; integrate gives ≥ 0", () => {
    const layer = new WitnessingLayer();
    for (const mode of WITNESSING_MODES) {
      const w = layer.createWitness(`w-${mode}`, mode);
      expect(w.mode).toBe(mode);
      const wc = layer.observe({ text: "x" }, `w-${mode}`, 0.5, T0);
      expect(wc.witnessId).toBe(`w-${mode}`);
      expect(layer.integrate(wc, `w-${mode}`, T0)).toBeGreaterThanOrEqual(0);
    }
    expect(() => layer.observe("x", "nobody", 0.5, T0)).toThrow(WitnessError);
  });

  it("reflects: strengthen above 0.7, probe below 0.3, maintain between, with depth lines", () => {
    const layer = new WitnessingLayer();
    layer.createWitness("w");
    const cases: [number, string, number][] = [
      [0.9, "strengthen", 0.1],
      [0.1, "probe", 0.05],
      [0.5, "maintain", 0.02],
    ];
    for (const [c, type, boost] of cases) {
      const wc = layer.reflect(layer.observe("x", "w", c, T0), "w");
      expect(wc.transformation).toEqual({ type, coherenceBoost: boost });
      expect(wc.metaObservations.filter((m) => m.startsWith("Reflection depth"))).toHaveLength(3);
    }
  });

  it("the integrator is logistic and bounded: many strong integrations approach but never reach 1", () => {
    const layer = new WitnessingLayer();
    layer.createWitness("w");
    let last = 0;
    for (let i = 0; i < 5000; i++) {
      const wc = layer.witness("x", "w", 0.95, T0);
      const c = layer.getWitness("w")!.coherenceContribution;
      expect(c).toBeGreaterThanOrEqual(last);
      expect(c).toBeLessThan(1);
      last = c;
      expect(wc.transformation!.type).toBe("strengthen");
    }
    expect(last).toBeGreaterThan(0.99);
    // The first step is rate·boost = 0.01 of the way from 0 to 1.
    const fresh = new WitnessingLayer();
    fresh.createWitness("f");
    fresh.witness("x", "f", 0.95, T0);
    expect(fresh.getWitness("f")!.coherenceContribution).toBeCloseTo(0.01, 15);
  });

  it("the contribution decays between integrations (half-life one hour by default)", () => {
    const layer = new WitnessingLayer();
    layer.createWitness("w");
    for (let i = 0; i < 100; i++) layer.witness("x", "w", 0.9, T0);
    const c0 = layer.contributionAt("w", T0);
    expect(layer.contributionAt("w", T0 + 3600)).toBeCloseTo(c0 / 2, 12);
    // Reads are pure; the next integration applies the decay first.
    expect(layer.contributionAt("w", T0)).toBe(c0);
    layer.witness("x", "w", 0.9, T0 + 7200);
    expect(layer.getWitness("w")!.coherenceContribution).toBeCloseTo(c0 / 4 + 0.01 * (1 - c0 / 4), 12);
  });

  it("content is bounded and ids are unique within the same instant", () => {
    const layer = new WitnessingLayer({ maxContents: 50 });
    layer.createWitness("w");
    const ids = new Set<string>();
    for (let i = 0; i < 120; i++) ids.add(layer.observe(i, "w", 0.5, T0).contentId);
    expect(ids.size).toBe(120);
    expect(layer.contentCount).toBe(50);
  });

  it("hands strongly coherent integrations to the memory hook", () => {
    const seen: number[] = [];
    const layer = new WitnessingLayer({}, (wc) => seen.push(wc.coherenceAtWitnessing));
    layer.createWitness("w");
    layer.witness("a", "w", 0.95, T0);
    layer.witness("b", "w", 0.4, T0);
    expect(seen).toEqual([0.95]);
  });

  it("mutual witnessing: WE = mean ×1.5 when close, bounded to 1; the WE witness is created once", () => {
    const layer = new WitnessingLayer();
    const high = mutualWitnessing(layer, "a", "b", "shared", 0.9, 0.95, T0);
    expect(high.mutualBoost).toBe(true);
    expect(high.weCoherence).toBe(1);
    const mid = mutualWitnessing(layer, "a", "b", "shared", 0.4, 0.5, T0);
    expect(mid.weCoherence).toBeCloseTo(0.675, 12);
    const apart = mutualWitnessing(layer, "a", "b", "shared", 0.1, 0.9, T0);
    expect(apart.mutualBoost).toBe(false);
    expect(apart.weCoherence).toBeCloseTo(0.5, 12);
    expect(layer.getWitness("WE_a_b")!.mode).toBe("mutual");
    const report = layer.coherenceReport(T0);
    expect(report.witnessCount).toBe(3);
    expect(report.totalObservations).toBe(6);
  });
});
