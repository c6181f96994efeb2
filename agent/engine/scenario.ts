/**
 * Scenarios in the golden file's format ({config, start, steps[{input, timestamp?}], expect?}):
 * validation with errors that name the bad field, and a replay that yields one result per step.
 */
import { z } from "zod";
import type { EngineConfig } from "./config.js";
import { TemporalEngine } from "./engine.js";
import { formatIsoMicros, parseIsoSeconds } from "./timestamp.js";

const isoUtc = z.string().refine((s) => parseIsoSeconds(s) !== undefined, { message: "must be an ISO 8601 UTC timestamp (…Z)" });

export const scenarioSchema = z.object({
  name: z.string().optional(),
  config: z
    .object({
      tauScale: z.number().positive().finite().optional(),
      omega: z.number().finite().optional(),
      coherenceThreshold: z.number().min(0).finite().optional(),
      historySize: z.number().int().min(1).max(10_000_000).optional(),
      clockMode: z.enum(["token_clock", "wall_clock"]).optional(),
      tokenFrequency: z.number().positive().finite().optional(),
      noiseStd: z.number().min(0).finite().optional(),
      seed: z.number().int().optional(),
      minSamples: z.number().int().min(1).optional(),
    })
    .strict(),
  start: isoUtc,
  steps: z.array(z.object({ input: z.string(), timestamp: isoUtc.optional() })),
  expect: z.unknown().optional(),
  final: z.unknown().optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Validates a parsed JSON value as a scenario; throws ScenarioError naming the first bad field. */
export function parseScenario(value: unknown): Scenario {
  const r = scenarioSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length === 0 ? "scenario" : issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  throw new ScenarioError(field, issue.message);
}

export interface ReplayStep {
  readonly coherence: number;
  readonly tTau: [number, number];
  readonly collapsed: boolean;
  readonly lamport: number;
  readonly eigenPhase: number;
  readonly timestamp: string;
}

/**
 * Replays a scenario. Noise defaults to the scenario's noiseStd (the golden files pin 0) and the
 * warm-up to 1, so a golden scenario replays exactly as the reference ran it.
 */
export function* replayScenario(s: Scenario): Generator<ReplayStep> {
  const config: Partial<EngineConfig> = { minSamples: 1, ...s.config };
  const engine = new TemporalEngine(config, { startTime: parseIsoSeconds(s.start)! });
  for (const step of s.steps) {
    const st = engine.temporalize(step.input, step.timestamp === undefined ? {} : { timestamp: parseIsoSeconds(step.timestamp)! });
    yield {
      coherence: st.coherence,
      tTau: [st.tTau.re, st.tTau.im],
      collapsed: st.collapsed,
      lamport: st.lamportClock,
      eigenPhase: st.eigenPhase,
      timestamp: formatIsoMicros(st.timestamp),
    };
  }
}
