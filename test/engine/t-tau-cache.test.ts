/**
 * The wall-clock T_tau pass caches each term's fixed factor in the sample ring. These tests mutate
 * a ring the ways the engine does (appends that slide the window, dampening, re-anchoring the
 * carrier, another σ) and check after each change that the cached pass equals a pass whose cache was
 * thrown away first — a missed invalidation would make them differ.
 */
import { describe, expect, it } from "vitest";
import { resolveEngineConfig, SeededRandom } from "../../agent/engine/index.js";
import { dampenScales } from "../../agent/engine/dampening.js";
import { SampleRing } from "../../agent/engine/sample-ring.js";
import { computeTTau, tokenCarrier, type TTauParams } from "../../agent/engine/t-tau.js";

const START = 1_780_000_000;

function params(ring: SampleRing, omega: number, noiseStd: number, recovery: number): TTauParams {
  const [re, im] = tokenCarrier(ring.capacity, omega, 20);
  return { mode: "wall_clock", omega, tokenFrequency: 20, lag: 1, noiseStd, recovery, tokenCarrierRe: re, tokenCarrierIm: im };
}

describe("wall-clock T_tau term cache", () => {
  it("never serves a stale factor: slides, dampening, re-anchoring, σ and recovery changes", () => {
    const omega = 2 * Math.PI * 10;
    const config = resolveEngineConfig({ clockMode: "wall_clock", historySize: 60, tauScale: 0.01, omega });
    const ring = new SampleRing(config);
    const rnd = new SeededRandom(11);
    let sigma = 0.005;
    let recovery = 0;
    for (let i = 0; i < 400; i++) {
      const angles = Float64Array.from({ length: 24 }, () => (rnd.nextUniform() * 2 - 1) * Math.PI * (i % 3 === 0 ? 0.2 : 1));
      const t = START + i * 0.05 + (i % 9 === 0 ? -0.07 : 0);
      ring.append(angles, t, rnd.nextNormal(), rnd.nextNormal(), config.tauScale, omega);
      if (i % 7 === 0) dampenScales(ring, 0.8 + rnd.nextUniform() * 0.19);
      if (i % 50 === 25) ring.reanchor(omega);
      if (i === 200) sigma = 0.05;
      if (i > 100) recovery = 0.3 + 0.2 * Math.sin(i);
      const p = params(ring, omega, sigma, recovery);
      const cached = computeTTau(ring, p);
      ring.wallBaseOk.fill(0);
      const fresh = computeTTau(ring, p);
      expect(cached, `step ${i}`).toEqual(fresh);
      // And once more from the cache just formed.
      expect(computeTTau(ring, p)).toEqual(fresh);
    }
  });
});
