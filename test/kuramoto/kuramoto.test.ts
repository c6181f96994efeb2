import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addFieldSums,
  alignPhase,
  fieldPhaseAt,
  fieldSum,
  kuramotoStep,
  meanField,
  meanFieldFromSum,
  wrapPhase,
  type PhaseReport,
} from "../../shared/kuramoto/index.js";

const report = (theta: number, omega = 0, t = 0, weight = 1): PhaseReport => ({ theta, omega, t, weight });

describe("wrapPhase", () => {
  it("maps into (−π, π]", () => {
    expect(wrapPhase(Math.PI)).toBe(Math.PI);
    expect(wrapPhase(-Math.PI)).toBe(Math.PI);
    expect(wrapPhase(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapPhase(2 * Math.PI + 0.25)).toBeCloseTo(0.25, 12);
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (theta) => {
        const w = wrapPhase(theta);
        expect(w).toBeGreaterThan(-Math.PI);
        expect(w).toBeLessThanOrEqual(Math.PI);
        expect(Math.cos(w)).toBeCloseTo(Math.cos(theta), 6);
        expect(Math.sin(w)).toBeCloseTo(Math.sin(theta), 6);
      }),
    );
  });
});

describe("meanField", () => {
  it("is r = 1 for identical phases and r ≈ 0 for balanced ones", () => {
    const locked = meanField([report(0.3), report(0.3), report(0.3)], 0);
    expect(locked.r).toBeCloseTo(1, 12);
    expect(locked.psi).toBeCloseTo(0.3, 12);
    expect(locked.n).toBe(3);
    const balanced = meanField([report(0), report((2 * Math.PI) / 3), report((-2 * Math.PI) / 3)], 0);
    expect(balanced.r).toBeLessThan(1e-12);
  });

  it("aligns every phase to the common time by its own ω", () => {
    // θ = 0 at t = 0 with ω = 1 rad/s is θ = 1 at t = 1000 ms.
    expect(alignPhase(report(0, 1, 0), 1000)).toBeCloseTo(1, 12);
    const field = meanField([report(0, 1, 0), report(1, 1, 1000)], 1000);
    expect(field.r).toBeCloseTo(1, 12);
    expect(field.psi).toBeCloseTo(1, 12);
    expect(field.omega).toBeCloseTo(1, 12);
    expect(fieldPhaseAt(field, 2000)).toBeCloseTo(2, 12);
  });

  it("is the all-to-all coupling: K r sin(ψ − θ_i) = (K/N) Σ sin(θ_j − θ_i)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }), (thetas, theta) => {
        const field = meanField(thetas.map((t) => report(t)), 0);
        const direct = thetas.reduce((sum, t) => sum + Math.sin(t - theta), 0) / thetas.length;
        expect(field.r * Math.sin(field.psi - theta)).toBeCloseTo(direct, 9);
      }),
    );
  });

  it("excludes weight 0 (quarantined) and non-finite reports", () => {
    const field = meanField([report(0), report(Math.PI, 0, 0, 0), report(Number.NaN)], 0);
    expect(field).toMatchObject({ n: 1, r: 1, psi: 0 });
    expect(meanField([], 5)).toEqual({ r: 0, psi: 0, omega: 0, n: 0, t: 5 });
  });

  it("field sums of disjoint groups add up exactly (sharded cells)", () => {
    const a = [report(0.1, 1), report(0.7, 2)];
    const b = [report(-2, 0.5), report(2.5, 1.5), report(1, 1)];
    const whole = meanField([...a, ...b], 100);
    const combined = meanFieldFromSum(addFieldSums(fieldSum(a, 100), fieldSum(b, 100)), 100);
    expect(combined.r).toBeCloseTo(whole.r, 12);
    expect(combined.psi).toBeCloseTo(whole.psi, 12);
    expect(combined.omega).toBeCloseTo(whole.omega, 12);
    expect(combined.n).toBe(5);
  });
});

describe("kuramotoStep", () => {
  it("runs free without a field and pulls toward ψ with one", () => {
    expect(kuramotoStep(0, 2, 0.05, { r: 0, psi: 1 }, { coupling: 2.5, maxStep: 0.05 })).toBeCloseTo(0.1, 12);
    const pulled = kuramotoStep(0, 0, 0.05, { r: 1, psi: 0.1 }, { coupling: 2.5, maxStep: 0.05 });
    expect(pulled).toBeCloseTo(2.5 * Math.sin(0.1) * 0.05, 12);
  });

  it("clamps the coupling step to ±maxStep but never the natural frequency", () => {
    const big = kuramotoStep(0, 0, 1, { r: 1, psi: Math.PI / 2 }, { coupling: 2.5, maxStep: 0.05 });
    expect(big).toBeCloseTo(0.05, 12);
    const back = kuramotoStep(0, 0, 1, { r: 1, psi: -Math.PI / 2 }, { coupling: 2.5, maxStep: 0.05 });
    expect(back).toBeCloseTo(-0.05, 12);
    const fast = kuramotoStep(0, 2 * Math.PI, 0.05, { r: 1, psi: Math.PI / 2 }, { coupling: 2.5, maxStep: 0.05 });
    expect(fast).toBeCloseTo(2 * Math.PI * 0.05 + 0.05, 12);
  });

  it("locks a population through the mean field", () => {
    let thetas = [-2.5, -1, 0.3, 1.7, 2.9];
    for (let tick = 0; tick < 2000; tick++) {
      const field = meanField(thetas.map((t) => report(t)), 0);
      thetas = thetas.map((t) => kuramotoStep(t, 0, 0.05, field, { coupling: 2.5, maxStep: 0.05 }));
    }
    expect(meanField(thetas.map((t) => report(t)), 0).r).toBeGreaterThan(0.999);
  });

  it("refuses negative dt and maxStep", () => {
    expect(() => kuramotoStep(0, 0, -1, { r: 0, psi: 0 }, { coupling: 1, maxStep: 0.05 })).toThrow(RangeError);
    expect(() => kuramotoStep(0, 0, 1, { r: 0, psi: 0 }, { coupling: 1, maxStep: -1 })).toThrow(RangeError);
  });
});
