import { describe, expect, it } from "vitest";
import {
  EngineConfigError,
  PRODUCT_MIN_SAMPLES,
  TemporalEngine,
  formatIsoMicros,
  hashAngles,
  parseIsoSeconds,
  roundHalfEven,
  tokenLag,
} from "../../agent/engine/index.js";

const START = 1_780_000_000;
const quiet = { noiseStd: 0 } as const;

describe("engine: creation, reads, reset", () => {
  it("a fresh engine has coherence 1 and T = 1+0i", () => {
    const e = new TemporalEngine({}, { startTime: START });
    expect(e.coherence).toBe(1);
    expect(e.tTau).toEqual({ re: 1, im: 0 });
    expect(e.integrationCount).toBe(0);
    expect(e.historyLength).toBe(1);
    expect(e.collapsed).toBe(false);
  });

  it("after reset: coherence 1, count 0, not collapsed, w = 0, Lamport kept", () => {
    const e = new TemporalEngine({ clockMode: "token_clock" }, { startTime: START });
    for (let i = 0; i < 30; i++) e.temporalize(`a${i}`);
    expect(e.collapsed).toBe(true);
    const lamport = e.lamportClock;
    e.reset(START + 100);
    expect(e.coherence).toBe(1);
    expect(e.integrationCount).toBe(0);
    expect(e.collapsed).toBe(false);
    expect(e.collapseTimestamp).toBeNull();
    expect(e.recovery).toBe(0);
    expect(e.lamportClock).toBe(lamport);
    expect(e.historyLength).toBe(1);
    expect(e.lastTimestamp).toBe(START + 100);
  });

  it("reset during a stream: the rest of the stream behaves like a fresh engine", () => {
    const e = new TemporalEngine({ clockMode: "token_clock", ...quiet }, { startTime: START });
    e.temporalizeStream(["one", "two", "three", "four"], START + 1);
    e.reset(START + 50);
    const after = e.temporalizeStream(["five", "six", "seven"], START + 51);
    const fresh = new TemporalEngine({ clockMode: "token_clock", ...quiet }, { startTime: START + 50 });
    const expected = fresh.temporalizeStream(["five", "six", "seven"], START + 51);
    after.forEach((s, i) => {
      expect(s.tTau).toEqual(expected[i]!.tTau);
      expect(s.integration).toBe(i + 1);
    });
    expect(after[0]!.lamportClock).toBe(5);
  });

  it("checkCollapse compares a fresh |T|² with I_c, ignoring the latch", () => {
    const e = new TemporalEngine({ clockMode: "token_clock", ...quiet }, { startTime: START });
    e.temporalize("a");
    for (let i = 0; i < 40; i++) e.temporalize(`r${i}`);
    expect(e.collapsed).toBe(true);
    const check = e.checkCollapse();
    expect(check.atThreshold).toBe(false);
    expect(check.coherence).toBeLessThan(0.95);
  });

  it("snapshot is JSON-safe", () => {
    const e = new TemporalEngine({}, { startTime: START });
    e.temporalize("hello", { timestamp: START + 1 });
    const s = JSON.parse(JSON.stringify(e.snapshot())) as { tTau: number[] };
    expect(s.tTau).toHaveLength(2);
  });
});

describe("engine: clocks and timestamps", () => {
  it("token clock: 10 ticks at 20 Hz advance 0.5 s", () => {
    const e = new TemporalEngine({ clockMode: "token_clock" }, { startTime: START });
    let last = 0;
    for (let i = 0; i < 10; i++) last = e.temporalize(`t${i}`).timestamp;
    expect(last - START).toBeCloseTo(0.5, 6);
  });

  it("a stream of 7 at 10 Hz with a start time spans 0.6 s, and the mode is unchanged", () => {
    const e = new TemporalEngine({ clockMode: "wall_clock", tokenFrequency: 10 }, { startTime: START });
    const states = e.temporalizeStream(["a", "b", "c", "d", "e", "f", "g"], START + 3);
    expect(states).toHaveLength(7);
    expect(states[6]!.timestamp - states[0]!.timestamp).toBeCloseTo(0.6, 6);
    expect(e.config.clockMode).toBe("wall_clock");
  });

  it("a stream without a start time begins one tick after the last sample (no duplicate stamp)", () => {
    const e = new TemporalEngine({ clockMode: "wall_clock", tokenFrequency: 10 }, { startTime: START });
    const [first] = e.temporalizeStream(["a"]);
    expect(first!.timestamp).toBeCloseTo(START + 0.1, 6);
  });

  it("token steps are whole microseconds, rounded like Python's timedelta (f = 3 → 333,333 µs)", () => {
    const e = new TemporalEngine({ clockMode: "token_clock", tokenFrequency: 3 }, { startTime: START });
    const a = e.temporalize("x").timestamp;
    const b = e.temporalize("y").timestamp;
    expect(Math.round((b - a) * 1e6)).toBe(333333);
    expect(formatIsoMicros(b)).toMatch(/\.666666Z$/);
  });

  it("wall clock without a timestamp uses the injected clock", () => {
    let now = START + 10;
    const e = new TemporalEngine({}, { startTime: START, now: () => now });
    expect(e.temporalize("a").timestamp).toBe(START + 10);
    now += 0.25;
    expect(e.temporalize("b").timestamp).toBe(START + 10.25);
  });

  it("wall clock: a duplicate or out-of-order timestamp adds no term (its dt ≤ 0 is skipped)", () => {
    const e = new TemporalEngine({ coherenceThreshold: 2, ...quiet }, { startTime: START });
    e.temporalize("a", { timestamp: START + 0.1 });
    e.temporalize("b", { timestamp: START + 0.2 });
    const before = e.tTau;
    expect(e.temporalize("dup", { timestamp: START + 0.2 }).tTau).toEqual(before);
    expect(e.temporalize("late", { timestamp: START + 0.05 }).tTau).toEqual(before);
    // The next sample's dt is measured from the late one, so it does count.
    expect(e.temporalize("c", { timestamp: START + 0.3 }).tTau).not.toEqual(before);
    expect(e.historyLength).toBe(6);
  });

  it("wall clock: a long gap weights its term by the gap", () => {
    const e = new TemporalEngine({ coherenceThreshold: 2, ...quiet }, { startTime: START });
    e.temporalize("a", { timestamp: START + 0.1 });
    e.temporalize("b", { timestamp: START + 0.2 });
    const gap = e.temporalize("c", { timestamp: START + 100 });
    // The 99.8 s term dominates the normalised sum: |T| stays near 1.
    expect(gap.coherence).toBeGreaterThan(0.99);
  });

  it("ISO timestamps round-trip at microsecond resolution", () => {
    for (const s of ["2026-05-25T12:00:00Z", "2026-05-25T12:00:00.050000Z", "2026-12-31T23:59:59.999999Z"]) {
      expect(formatIsoMicros(parseIsoSeconds(s)!)).toBe(s);
    }
    expect(parseIsoSeconds("2026-02-30T00:00:00Z")).toBeUndefined();
    expect(parseIsoSeconds("yesterday")).toBeUndefined();
  });
});

describe("engine: history, Lamport, warm-up, config", () => {
  it("the history slides: at most H samples, the oldest dropped", () => {
    const e = new TemporalEngine({ clockMode: "token_clock", historySize: 5 }, { startTime: START });
    for (let i = 0; i < 12; i++) e.temporalize(`s${i}`);
    expect(e.historyLength).toBe(5);
    expect(e.integrationCount).toBe(12);
  });

  it("Lamport: +1 per input; a received time merges as max(local, received) + 1; never backwards", () => {
    const e = new TemporalEngine({ clockMode: "token_clock" }, { startTime: START });
    expect(e.temporalize("a").lamportClock).toBe(1);
    expect(e.temporalize("b", { lamportTime: 41 }).lamportClock).toBe(42);
    expect(e.temporalize("c", { lamportTime: 3 }).lamportClock).toBe(43);
    expect(e.observeLamport(99)).toBe(100);
    expect(e.observeLamport(5)).toBe(100);
    e.reset(START + 1);
    expect(e.temporalize("d").lamportClock).toBe(101);
  });

  it("minSamples 1 collapses on the first input (reference parity); the product warm-up does not", () => {
    const parity = new TemporalEngine({ clockMode: "token_clock" }, { startTime: START });
    expect(parity.temporalize("first").collapsed).toBe(true);
    const product = new TemporalEngine({ clockMode: "token_clock", minSamples: PRODUCT_MIN_SAMPLES, tauScale: 0.05, omega: 0, coherenceThreshold: 0.5, ...quiet }, { startTime: START });
    const states = Array.from({ length: PRODUCT_MIN_SAMPLES + 5 }, () => product.temporalize("same"));
    expect(states[0]!.coherence).toBeGreaterThan(0.95);
    expect(states.slice(0, PRODUCT_MIN_SAMPLES - 1).every((s) => !s.collapsed)).toBe(true);
    // Above I_c before the warm-up ended (the first input, and inputs 7–9), yet not collapsed;
    // the same token keeps coherence rising, so it collapses at the first input allowed to.
    expect(states.slice(6, PRODUCT_MIN_SAMPLES - 1).every((s) => s.coherence >= 0.5)).toBe(true);
    expect(states[PRODUCT_MIN_SAMPLES - 1]!.collapsed).toBe(true);
  });

  it("the token lag uses round half to even", () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-0.5) === 0).toBe(true);
    expect(tokenLag({ tauScale: 0.01, tokenFrequency: 20 })).toBe(1);
    expect(tokenLag({ tauScale: 0.125, tokenFrequency: 20 })).toBe(2);
    expect(tokenLag({ tauScale: 1, tokenFrequency: 20 })).toBe(20);
  });

  it("rejects bad configuration naming the field", () => {
    expect(() => new TemporalEngine({ historySize: 0 })).toThrow(EngineConfigError);
    expect(() => new TemporalEngine({ tauScale: -1 })).toThrow(/tauScale/);
    expect(() => new TemporalEngine({ clockMode: "sundial" as never })).toThrow(/clockMode/);
    expect(() => new TemporalEngine({ seed: 1.5 })).toThrow(/seed/);
  });

  it("eigen-phase is arg(mean(phase vector))", () => {
    const e = new TemporalEngine({}, { startTime: START });
    const st = e.temporalize("hello", { timestamp: START + 1 });
    const a = hashAngles("hello");
    let re = 0;
    let im = 0;
    for (const x of a) {
      re += Math.cos(x);
      im += Math.sin(x);
    }
    expect(st.eigenPhase).toBeCloseTo(Math.atan2(im / 384, re / 384), 12);
  });
});

describe("encoder", () => {
  it("is deterministic, has 384 angles in [−π, π), and differs between inputs", () => {
    const a = hashAngles("kairos");
    expect(a).toEqual(hashAngles("kairos"));
    expect(a).toHaveLength(384);
    expect([...a].every((x) => x >= -Math.PI && x < Math.PI)).toBe(true);
    expect(hashAngles("kairos!")).not.toEqual(a);
  });
});

describe("engine: bad input never corrupts state", () => {
  it("rejects a non-finite Lamport time or encoder angle before changing anything", () => {
    const bad = { name: "bad", encode: (t: string) => new Float64Array(t === "nan" ? [Number.NaN] : [0.5]) };
    const e = new TemporalEngine({ clockMode: "token_clock" }, { startTime: START, encoder: bad });
    e.temporalize("ok");
    const before = e.snapshot();
    expect(() => e.temporalize("ok", { lamportTime: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => e.temporalize("nan")).toThrow(/non-finite/);
    expect(() => e.temporalize(42 as unknown as string)).toThrow(TypeError);
    expect(() => e.temporalize("ok", { timestamp: Number.NaN })).toThrow(RangeError);
    expect(e.snapshot()).toEqual(before);
  });
});
