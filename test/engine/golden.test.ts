import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TemporalEngine, hashAngles, parseIsoSeconds, formatIsoMicros, analyzeTelemetryDrift } from "../../agent/engine/index.js";
import type { ClockMode } from "../../agent/engine/index.js";

interface Golden {
  encode: { text: string; phases: number[] }[];
  engine: {
    name: string;
    config: {
      tauScale: number;
      omega: number;
      coherenceThreshold: number;
      historySize: number;
      clockMode: ClockMode;
      tokenFrequency: number;
      noiseStd: number;
    };
    start: string;
    steps: { input: string; timestamp?: string }[];
    expect: {
      coherence: number;
      tTau: [number, number];
      collapsed: boolean;
      lamport: number;
      eigenPhase: number;
      timestamp: string;
    }[];
    final: { coherence: number; tTau: [number, number]; integrationCount: number; recovery: number };
  }[];
  lamportDrift: { telemetry: unknown; report: Record<string, unknown> };
}

const golden = JSON.parse(readFileSync(new URL("../fixtures/engine.json", import.meta.url), "utf8")) as Golden;

/** Relative error ≤ 1e-9, or absolute ≤ 1e-12 near zero. */
function close(actual: number, expected: number, what: string): void {
  const err = Math.abs(actual - expected);
  const ok = err <= 1e-12 || err <= 1e-9 * Math.abs(expected);
  if (!ok) throw new Error(`${what}: got ${actual}, expected ${expected} (abs err ${err.toExponential(2)})`);
}

describe("golden vectors: encoder", () => {
  it.each(golden.encode.map((e) => [e.text.slice(0, 12), e] as const))("encodes %j exactly", (_, e) => {
    const angles = hashAngles(e.text);
    expect(angles.length).toBe(384);
    expect(e.phases.length).toBe(384);
    for (let k = 0; k < 384; k++) close(angles[k]!, e.phases[k]!, `angle ${k}`);
  });
});

describe("golden vectors: engine scenarios", () => {
  it.each(golden.engine.map((s) => [s.name, s] as const))("%s matches every step and the final read", (_, s) => {
    const engine = new TemporalEngine({ ...s.config, minSamples: 1 }, { startTime: parseIsoSeconds(s.start)! });
    s.steps.forEach((step, i) => {
      const ts = step.timestamp === undefined ? undefined : parseIsoSeconds(step.timestamp)!;
      const st = engine.temporalize(step.input, ts === undefined ? {} : { timestamp: ts });
      const ex = s.expect[i]!;
      const where = `${s.name} step ${i}`;
      close(st.coherence, ex.coherence, `${where} coherence`);
      close(st.tTau.re, ex.tTau[0], `${where} tTau.re`);
      close(st.tTau.im, ex.tTau[1], `${where} tTau.im`);
      close(st.eigenPhase, ex.eigenPhase, `${where} eigenPhase`);
      expect(st.collapsed, `${where} collapsed`).toBe(ex.collapsed);
      expect(st.lamportClock, `${where} lamport`).toBe(ex.lamport);
      expect(formatIsoMicros(st.timestamp), `${where} timestamp`).toBe(ex.timestamp);
    });
    const T = engine.tTau;
    close(T.re * T.re + T.im * T.im, s.final.coherence, `${s.name} final coherence`);
    close(T.re, s.final.tTau[0], `${s.name} final tTau.re`);
    close(T.im, s.final.tTau[1], `${s.name} final tTau.im`);
    close(engine.recovery, s.final.recovery, `${s.name} final recovery`);
    expect(engine.integrationCount).toBe(s.final.integrationCount);
    // A read is pure: reading again changes nothing.
    expect(engine.tTau).toEqual(T);
  });
});

describe("golden vectors: lamport drift", () => {
  it("reproduces the reference's drift report on its sample telemetry", () => {
    const camel = analyzeTelemetryDrift(golden.lamportDrift.telemetry) as unknown as Record<string, unknown>;
    const report = Object.fromEntries(Object.entries(camel).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()), v]));
    for (const [key, value] of Object.entries(golden.lamportDrift.report)) {
      if (typeof value === "number") close(report[key] as number, value, key);
      else expect(report[key], key).toEqual(value);
    }
  });
});
