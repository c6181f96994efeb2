import { describe, expect, it } from "vitest";
import { type PhaseEncoder, SeededRandom, TemporalEngine } from "../../agent/engine/index.js";
import { NaiveEngine, type NaiveConfig } from "./naive-reference.js";

function close(actual: number, expected: number, what: string): void {
  const err = Math.abs(actual - expected);
  if (!(err <= 1e-12 || err <= 1e-9 * Math.abs(expected))) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (abs err ${err.toExponential(2)})`);
  }
}

const START = 1_780_000_000;

interface Case {
  name: string;
  config: NaiveConfig;
  steps: number;
  /** Timestamp of step i in wall mode (undefined: token mode default). */
  time?: (i: number, rnd: SeededRandom) => number;
  vocabulary: number;
  encoder?: PhaseEncoder;
}

/** Four clustered angles per word: |mean| near 1, so the coupling term can outweigh |b|. */
const clustered: PhaseEncoder = {
  name: "clustered-4",
  encode: (t) => {
    const k = Number(t.slice(1)) || 0;
    return new Float64Array([0.9 * k, 0.9 * k + 0.35, 0.9 * k - 0.2, 0.9 * k + 0.6 * Math.sin(k)]);
  },
};

const wallCases: Case[] = [
  {
    name: "wall: gaps, duplicates and out-of-order timestamps, sliding window",
    config: { tauScale: 0.3, omega: 2 * Math.PI, coherenceThreshold: 0.5, historySize: 40, clockMode: "wall_clock", tokenFrequency: 20 },
    steps: 160,
    time: (i, r) => START + i * 0.05 + (i % 17 === 0 ? 5 : 0) - (i % 11 === 0 ? 0.2 : 0) + Math.floor(r.nextUniform() * 3) * 0.013,
    vocabulary: 5,
  },
  {
    name: "wall: dense input relative to tau (partner far back), repeated tokens, long collapse",
    config: { tauScale: 1.0, omega: 0.7, coherenceThreshold: 0.2, historySize: 300, clockMode: "wall_clock", tokenFrequency: 20 },
    steps: 400,
    time: (i) => START + i * 0.01,
    vocabulary: 2,
  },
];

wallCases.push({
  name: "wall: long collapsed run with clustered phases, terms flip",
  config: { tauScale: 0.12, omega: 0.3, coherenceThreshold: 0.01, historySize: 200, clockMode: "wall_clock", tokenFrequency: 20 },
  steps: 700,
  time: (i, r) => START + i * 0.05 + r.nextUniform() * 0.02,
  vocabulary: 7,
  encoder: clustered,
});

wallCases.push({
  name: "wall: a fast carrier re-anchored several times while the window slides",
  config: { tauScale: 0.01, omega: 2 * Math.PI * 10, coherenceThreshold: 0.3, historySize: 100, clockMode: "wall_clock", tokenFrequency: 20 },
  steps: 1400,
  time: (i) => START + i * 0.05,
  vocabulary: 6,
});

const tokenCases: Case[] = [
  {
    name: "token: sliding ring smaller than the lag (everything pairs with the oldest)",
    config: { tauScale: 1.0, omega: 1.3, coherenceThreshold: 0.3, historySize: 12, clockMode: "token_clock", tokenFrequency: 20 },
    steps: 200,
    vocabulary: 4,
  },
  {
    name: "token: long collapsed run, scales fall into the restoring regime and terms flip",
    config: { tauScale: 0.25, omega: 0.2, coherenceThreshold: 0.01, historySize: 300, clockMode: "token_clock", tokenFrequency: 20 },
    steps: 1200,
    vocabulary: 7,
    encoder: clustered,
  },
  {
    name: "token: long history, most samples in the converged (mature) regime, terms flip",
    config: { tauScale: 0.1, omega: 0.05, coherenceThreshold: 0.01, historySize: 1200, clockMode: "token_clock", tokenFrequency: 20 },
    steps: 2600,
    vocabulary: 5,
    encoder: clustered,
  },
];

describe("exactness against a naive line-by-line port (σ = 0)", () => {
  it.each([...wallCases, ...tokenCases].map((c) => [c.name, c] as const))("%s", (_, c) => {
    const rnd = new SeededRandom(7);
    const engine = new TemporalEngine({ ...c.config, noiseStd: 0, minSamples: 1 }, { startTime: START, ...(c.encoder ? { encoder: c.encoder } : {}) });
    const naive = new NaiveEngine(c.config, START, c.encoder ? (t) => c.encoder!.encode(t) : undefined);
    for (let i = 0; i < c.steps; i++) {
      const word = `w${Math.floor(rnd.nextUniform() * c.vocabulary)}`;
      const t = c.time ? Math.round(c.time(i + 1, rnd) * 1e6) / 1e6 : undefined;
      const a = engine.temporalize(word, t === undefined ? {} : { timestamp: t });
      const b = naive.temporalize(word, t);
      close(a.tTau.re, b.tTau.re, `step ${i} re`);
      close(a.tTau.im, b.tTau.im, `step ${i} im`);
      close(a.coherence, b.coherence, `step ${i} coherence`);
      expect(a.collapsed).toBe(naive.collapsed);
    }
    const T = engine.tTau;
    const N = naive.tTau();
    close(T.re, N.re, "final re");
    close(T.im, N.im, "final im");
    close(engine.recovery, naive.w, "recovery");
    if (c.name.includes("flip")) expect(naive.flips).toBeGreaterThan(0);
  });

  it("a token stream on a wall-clock engine integrates in token mode and leaves reads in wall mode", () => {
    const config: NaiveConfig = { tauScale: 0.2, omega: 3, coherenceThreshold: 0.6, historySize: 30, clockMode: "wall_clock", tokenFrequency: 10 };
    const engine = new TemporalEngine({ ...config, noiseStd: 0 }, { startTime: START });
    const naive = new NaiveEngine(config, START);
    const tokens = Array.from({ length: 45 }, (_, i) => `s${i % 7}`);
    const states = engine.temporalizeStream(tokens, START + 1);
    tokens.forEach((tok, i) => {
      const b = naive.temporalize(tok, Math.round((START + 1 + i * 0.1) * 1e6) / 1e6, "token_clock");
      close(states[i]!.tTau.re, b.tTau.re, `stream step ${i}`);
      close(states[i]!.tTau.im, b.tTau.im, `stream step ${i}`);
    });
    close(engine.tTau.re, naive.tTau("wall_clock").re, "wall read after stream");
    expect(engine.config.clockMode).toBe("wall_clock");
  });

  it("handles pluggable encoders with other dimensions and empty outputs", () => {
    const small: PhaseEncoder = {
      name: "tiny",
      encode: (t) => (t === "" ? new Float64Array(0) : new Float64Array([t.length * 0.3, -t.length, 1.1, t.charCodeAt(0) / 50])),
    };
    const config: NaiveConfig = { tauScale: 0.1, omega: 2, coherenceThreshold: 0.4, historySize: 25, clockMode: "token_clock", tokenFrequency: 20 };
    const engine = new TemporalEngine({ ...config, noiseStd: 0 }, { startTime: START, encoder: small });
    const naive = new NaiveEngine(config, START, (t) => {
      const a = small.encode(t);
      return a.length === 0 ? new Float64Array([0]) : a;
    });
    const words = ["ab", "", "abc", "x", "", "hello", "ab", "zz", "q"];
    for (let i = 0; i < 80; i++) {
      const w = words[i % words.length]!;
      const a = engine.temporalize(w);
      const b = naive.temporalize(w);
      close(a.tTau.re, b.tTau.re, `step ${i}`);
      close(a.tTau.im, b.tTau.im, `step ${i}`);
    }
  });
});
