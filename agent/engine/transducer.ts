/**
 * What Master and Emissary share (the reference's transducers, working): each owns an engine, a
 * phase track, rolling coherence statistics and a non-latching collapse condition, and witnesses
 * itself on an interval or on collapse. `collapsed` in results is the collapse condition's (it can
 * be released); the engine's own latch is in `engineCollapsed`.
 */
import type { Complex } from "./complex.js";
import { CoherenceCalculator } from "./coherence-calculator.js";
import { CollapseCondition } from "./collapse-condition.js";
import type { EngineConfig } from "./config.js";
import type { PhaseEncoder } from "./encoder.js";
import { TemporalEngine, type TemporalState } from "./engine.js";
import { PhaseHistory } from "./phase-history.js";
import { nowSeconds } from "./timestamp.js";

export interface TransducerConfig {
  readonly tauScale: number;
  readonly tauMax: number;
  readonly omega: number;
  readonly coherenceThreshold: number;
  /** Seconds between self-witness records. */
  readonly witnessInterval: number;
  /** The engine's history: trunc(tauMax/tauScale)·multiplier, at least 2. */
  readonly historyMultiplier: number;
  readonly minSamples: number;
  readonly noiseStd: number;
  readonly seed: number;
}

export interface TransducerOptions {
  readonly encoder?: PhaseEncoder;
  readonly now?: () => number;
  readonly startTime?: number;
  /**
   * Entries kept of the introspection logs (witnessLog, the Emissary's actions), oldest dropped
   * first. Default: the reference's limits (1,000; 10,000 actions) — several MB after an hour at
   * 20 Hz, so a long-running process sets its own.
   */
  readonly logLimit?: number;
  /**
   * Run the engine on the token clock at this rate (ENGINE.md token_clock: term i at i/f, partner
   * found by lag) instead of the wall clock — for a caller whose inputs arrive exactly every 1/f s
   * (the agent). Default: the wall clock, as the reference's transducers.
   */
  readonly tokenClockHz?: number;
}

export interface WitnessRecord {
  readonly timestamp: number;
  readonly witnessCount: number;
  readonly coherence: number;
  readonly tTau: [number, number];
  readonly phaseAngle: number;
  readonly velocity: number;
  readonly collapsed: boolean;
  readonly collapseDuration: number;
  readonly integrationCount: number;
  readonly coherenceTrend: number;
}

export interface IntegrationResult {
  readonly timestamp: number;
  readonly angles: Float64Array;
  readonly eigenPhase: number;
  readonly coherence: number;
  readonly tTau: [number, number];
  readonly collapsed: boolean;
  readonly engineCollapsed: boolean;
  readonly collapseMessage: string;
  readonly collapseWarning?: string;
  readonly integrationCount: number;
  readonly lamportClock: number;
  readonly witnessed: boolean;
}

/** History size rule of the reference, with the minimum of 2 it lacked (0 froze T at 1). */
export function transducerHistorySize(c: Pick<TransducerConfig, "tauMax" | "tauScale" | "historyMultiplier">): number {
  return Math.max(2, Math.trunc(c.tauMax / c.tauScale) * c.historyMultiplier);
}

const LOG_LIMIT = 1000;

export abstract class Transducer {
  readonly engine: TemporalEngine;
  readonly phase: PhaseHistory;
  readonly coherenceStats: CoherenceCalculator;
  readonly collapse: CollapseCondition;
  readonly config: TransducerConfig;
  protected readonly now: () => number;
  protected witnessCountValue = 0;
  protected lastWitness = -Infinity;
  readonly witnessLog: WitnessRecord[] = [];
  /** TransducerOptions.logLimit, when given. */
  protected readonly logLimit: number | undefined;
  abstract readonly type: "MASTER" | "EMISSARY";
  protected abstract readonly trendWindow: number;

  constructor(
    readonly name: string,
    config: TransducerConfig,
    options: TransducerOptions = {},
  ) {
    for (const [k, v] of Object.entries(config)) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`${name}: ${k} must be a finite number, got ${String(v)}`);
    }
    if (!(config.tauScale > 0) || !(config.tauMax > 0)) throw new RangeError(`${name}: tauScale and tauMax must be > 0`);
    if (options.logLimit !== undefined && !(Number.isSafeInteger(options.logLimit) && options.logLimit >= 1)) {
      throw new RangeError(`${name}: logLimit must be a positive integer, got ${options.logLimit}`);
    }
    this.config = config;
    this.logLimit = options.logLimit;
    if (options.tokenClockHz !== undefined && !(Number.isFinite(options.tokenClockHz) && options.tokenClockHz > 0)) {
      throw new RangeError(`${name}: tokenClockHz must be a finite number > 0, got ${options.tokenClockHz}`);
    }
    this.now = options.now ?? nowSeconds;
    const start = options.startTime ?? this.now();
    const engineConfig: Partial<EngineConfig> = {
      tauScale: config.tauScale,
      omega: config.omega,
      coherenceThreshold: config.coherenceThreshold,
      historySize: transducerHistorySize(config),
      ...(options.tokenClockHz !== undefined ? { clockMode: "token_clock" as const, tokenFrequency: options.tokenClockHz } : { clockMode: "wall_clock" as const }),
      minSamples: config.minSamples,
      noiseStd: config.noiseStd,
      seed: config.seed,
    };
    this.engine = new TemporalEngine(engineConfig, { ...(options.encoder ? { encoder: options.encoder } : {}), now: this.now, startTime: start });
    this.phase = new PhaseHistory({ omega: config.omega, historySize: transducerHistorySize(config) }, `${name}-phase`, start);
    this.coherenceStats = new CoherenceCalculator(100);
    this.collapse = new CollapseCondition(config.coherenceThreshold);
  }

  /** Pure read of the engine's coherence. */
  get coherence(): number {
    return this.engine.coherence;
  }

  get witnessCount(): number {
    return this.witnessCountValue;
  }

  protected integrateText(
    text: string,
    timestamp: number | undefined,
    metadata: Readonly<Record<string, unknown>> | undefined,
    extraWitness: (coherence: number, collapsed: boolean) => boolean,
  ): { result: IntegrationResult; state: TemporalState } {
    const state = this.engine.temporalize(text, {
      ...(timestamp !== undefined ? { timestamp } : {}),
      metadata: { ...(metadata ?? {}), transducer: this.name },
    });
    // The engine already summed this input's phasors; the phase track would sum them again.
    this.phase.setPhase(state.meanPhasor, state.timestamp, "integrate");
    // One logical operation reads one T: the engine's reads are pure, so these agree.
    const T: Complex = this.engine.tTau;
    this.coherenceStats.update(T);
    const c = this.engine.coherence;
    const evaluation = this.collapse.evaluate(c, state.timestamp);
    let witnessed = false;
    if (state.timestamp - this.lastWitness >= this.config.witnessInterval || evaluation.collapsed || extraWitness(c, evaluation.collapsed)) {
      this.witness(state.timestamp);
      witnessed = true;
    }
    const result: IntegrationResult = {
      timestamp: state.timestamp,
      angles: state.angles,
      eigenPhase: state.eigenPhase,
      coherence: c,
      tTau: [T.re, T.im],
      collapsed: evaluation.collapsed,
      engineCollapsed: state.collapsed,
      collapseMessage: evaluation.message,
      ...(evaluation.warning ? { collapseWarning: evaluation.warning } : {}),
      integrationCount: this.engine.integrationCount,
      lamportClock: state.lamportClock,
      witnessed,
    };
    return { result, state };
  }

  /** Appends a self-witness record. */
  witness(at: number = this.now()): WitnessRecord {
    const T = this.engine.tTau;
    this.witnessCountValue += 1;
    this.lastWitness = at;
    const record: WitnessRecord = {
      timestamp: at,
      witnessCount: this.witnessCountValue,
      coherence: this.engine.coherence,
      tTau: [T.re, T.im],
      phaseAngle: this.phase.current.angle,
      velocity: this.phase.velocity,
      collapsed: this.collapse.collapsed,
      collapseDuration: this.collapse.duration(at),
      integrationCount: this.engine.integrationCount,
      coherenceTrend: this.coherenceStats.trend(this.trendWindow),
    };
    this.witnessLog.push(record);
    if (this.witnessLog.length > (this.logLimit ?? LOG_LIMIT)) this.witnessLog.shift();
    return record;
  }

  reset(at: number = this.now()): void {
    this.engine.reset(at);
    this.phase.reset(at);
    this.coherenceStats.reset();
    this.collapse.reset();
    this.witnessCountValue = 0;
    this.lastWitness = -Infinity;
    this.witnessLog.length = 0;
  }

  snapshot(): Record<string, unknown> {
    return {
      name: this.name,
      type: this.type,
      coherence: this.coherence,
      collapsed: this.collapse.collapsed,
      integrationCount: this.engine.integrationCount,
      witnessCount: this.witnessCountValue,
      config: this.config,
    };
  }
}
