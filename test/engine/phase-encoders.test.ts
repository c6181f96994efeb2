import { describe, expect, it } from "vitest";
import { hashAngles, hashPhaseEncoder } from "../../agent/engine/encoder.js";
import { MasterTransducer } from "../../agent/engine/master.js";
import { embeddingAngles, parsePhaseToken, phaseToken, phaseTokenEncoder, uniformAngles, wrapAngle } from "../../agent/engine/phase-token.js";
import { EngineCore } from "../../agent/runtime/engineCore.js";
import { defaultPhaseStep, PhaseStream } from "../../agent/sources/phaseStream.js";

describe("phase tokens", () => {
  it("parses φ:x and phi:x within bounds, wraps to (−π, π], refuses everything else", () => {
    expect(parsePhaseToken("φ:1.5")).toBe(1.5);
    expect(parsePhaseToken("phi:-0.25")).toBe(-0.25);
    expect(parsePhaseToken("φ:.5e1")).toBeCloseTo(5 - 2 * Math.PI, 12);
    expect(parsePhaseToken(`φ:${Math.PI}`)).toBeCloseTo(Math.PI, 12);
    expect(parsePhaseToken(`φ:${-Math.PI}`)).toBeCloseTo(Math.PI, 12);
    for (const bad of ["φ:", "φ:abc", "φ:1e7", "φ:Infinity", "φ:NaN", "φ: 1", "x φ:1", "φ:1 ", "phi:0x10", `φ:${"1".repeat(50)}`, "hello"]) {
      expect(parsePhaseToken(bad), bad).toBeUndefined();
    }
    for (const x of [0, 1, -3, 3.14159, 100.5]) expect(parsePhaseToken(phaseToken(x))).toBeCloseTo(wrapAngle(x), 10);
  });

  it("a phase token becomes a uniform 384-angle vector; other tokens are hashed exactly as before", () => {
    const enc = phaseTokenEncoder();
    expect(Array.from(enc.encode("φ:0.75"))).toEqual(Array.from(uniformAngles(0.75)));
    expect(enc.encode("φ:0.75")).toHaveLength(384);
    expect(Array.from(enc.encode("hello"))).toEqual(Array.from(hashAngles("hello")));
    expect(Array.from(hashPhaseEncoder.encode("φ:0.75"))).toEqual(Array.from(hashAngles("φ:0.75"))); // the default encoder is unchanged
  });

  it("a φ-token stream through EngineCore matches the same phases given as phase inputs", () => {
    const a = new EngineCore({ hz: 20, nowMs: () => 1_800_000_000_000, encoder: phaseTokenEncoder() });
    const b = new EngineCore({ hz: 20, nowMs: () => 1_800_000_000_000 });
    for (let i = 0; i < 50; i++) {
      const x = wrapAngle(0.3 * i);
      const ra = a.step({ type: "text", text: phaseToken(x), source: "t" }, 0.05);
      const rb = b.step({ type: "phase", phases: Array.from(uniformAngles(parsePhaseToken(phaseToken(x))!)), source: "t" }, 0.05);
      expect(ra.coherence).toBe(rb.coherence);
      expect(ra.dissipated).toBe(rb.dissipated);
    }
  });
});

describe("phase stream", () => {
  it("is deterministic: coherent runs advance by step (continuing across runs), scattered runs come from the seed", () => {
    const p = { step: 0.1, coherentTokens: 3, scatterTokens: 2, seed: 7 };
    const a = new PhaseStream(p);
    const b = new PhaseStream(p);
    const xs = Array.from({ length: 10 }, () => a.next());
    expect(Array.from({ length: 10 }, () => b.next())).toEqual(xs);
    expect(xs.slice(0, 3)).toEqual([0, 0.1, 0.2]);
    expect(xs[5]).toBeCloseTo(0.3, 12);
    expect(xs[7]).toBeCloseTo(0.5, 12);
    for (const x of [xs[3]!, xs[4]!, xs[8]!, xs[9]!]) expect(Math.abs(x)).toBeLessThanOrEqual(Math.PI);
    expect(() => new PhaseStream({ ...p, step: Number.NaN })).toThrow(RangeError);
    expect(() => new PhaseStream({ ...p, coherentTokens: 0 })).toThrow(RangeError);
  });

  it("phases with meaning collapse a transducer: the Master collapses on the reference rule's ramp within 30 inputs, never on text", () => {
    const hz = 20;
    const start = 1_800_000_000;
    const run = (next: (i: number) => string, encoder = phaseTokenEncoder()) => {
      let n = 0;
      const master = new MasterTransducer({}, { encoder, now: () => start + n / hz, startTime: start });
      for (let i = 0; i < 600; i++) {
        n++;
        if (master.integrate(next(i), start + n / hz).engineCollapsed) return i; // the latch: not before 10 inputs (PRODUCT_MIN_SAMPLES)
      }
      return undefined;
    };
    const stream = new PhaseStream({ step: defaultPhaseStep(hz, "reference"), coherentTokens: 1, scatterTokens: 0, seed: 1 });
    const at = run(() => stream.nextToken());
    expect(at).toBeDefined();
    expect(at!).toBeLessThan(30);
    expect(run((i) => `word${i}`)).toBeUndefined();
  });
});

describe("embedding → angles", () => {
  it("is deterministic, bounded to (−π, π], repeats the planes' angles over 384 dimensions, and refuses non-finite input", () => {
    const e = Array.from({ length: 64 }, (_, k) => Math.cos(k));
    const a = embeddingAngles(e, 8);
    expect(a).toHaveLength(384);
    expect(Array.from(embeddingAngles(e, 8))).toEqual(Array.from(a));
    for (let k = 0; k < 384; k++) {
      expect(a[k]).toBe(a[k % 8]);
      expect(Math.abs(a[k]!)).toBeLessThanOrEqual(Math.PI);
    }
    // Scale does not matter (only the shadow's direction).
    const scaled = embeddingAngles(e.map((x) => x * 1000), 8);
    for (let k = 0; k < 8; k++) expect(scaled[k]).toBeCloseTo(a[k]!, 9);
    expect(() => embeddingAngles([1, Number.NaN])).toThrow(RangeError);
    expect(() => embeddingAngles([])).toThrow(RangeError);
    expect(Array.from(embeddingAngles([0, 0, 0], 2, 4))).toEqual([0, 0, 0, 0]);
  });

  it("nearby embeddings get nearby angles; unrelated ones scatter", () => {
    const base = Array.from({ length: 256 }, (_, k) => Math.sin(k * 1.7));
    const near = base.map((x, k) => x + 0.02 * Math.cos(k));
    const far = Array.from({ length: 256 }, (_, k) => Math.cos(k * 2.9 + 1));
    const gap = (x: Float64Array, y: Float64Array) => {
      let s = 0;
      for (let p = 0; p < 8; p++) s += Math.abs(wrapAngle(x[p]! - y[p]!));
      return s / 8;
    };
    const a = embeddingAngles(base);
    expect(gap(a, embeddingAngles(near))).toBeLessThan(0.1);
    expect(gap(a, embeddingAngles(far))).toBeGreaterThan(0.5);
  });
});
