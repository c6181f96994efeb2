/**
 * The KAIROS temporal engine (ENGINE.md §2–§7): appends each input's phase vector to a bounded
 * history, integrates T_tau over it, latches a collapse when |T|² ≥ I_c, dampens while collapsed,
 * and keeps a Lamport clock. Reads (tTau, coherence, …) are pure: they are computed from the state,
 * memoised, and never draw noise; noise is drawn once per input, from a seeded generator.
 */
import { type Complex, complexAbs, complexArg } from "./complex.js";
import { type ClockMode, type EngineConfig, resolveEngineConfig, tokenLag } from "./config.js";
import { dampenScales, decayFactor, nextRecovery } from "./dampening.js";
import { type PhaseEncoder, hashPhaseEncoder } from "./encoder.js";
import { SeededRandom } from "./prng.js";
import { roundHalfEven } from "./rounding.js";
import { SampleRing } from "./sample-ring.js";
import { TokenAccumulator } from "./token-accumulator.js";
import { computeTTau, tokenCarrier } from "./t-tau.js";
import { nowSeconds, secondsToMicros } from "./timestamp.js";

/** The result of one temporalize (the reference's TemporalState, JSON-safe apart from `angles`). */
export interface TemporalState {
  /** The input's phase angles (radians); the phase vector is e^{i·angles}. */
  readonly angles: Float64Array;
  /** |T_tau|², not clipped (the reference returns it unclipped). */
  readonly coherence: number;
  /** Epoch seconds, µs resolution, UTC. */
  readonly timestamp: number;
  readonly lamportClock: number;
  readonly tTau: Complex;
  readonly collapsed: boolean;
  readonly integration: number;
  /** arg(mean(phase vector)). */
  readonly eigenPhase: number;
  /** mean(phase vector) = (1/n)·Σ e^{i·angles_k}, summed in index order (what PhaseHistory.setPhase computes). */
  readonly meanPhasor: Complex;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface TemporalizeOptions {
  /** Epoch seconds (UTC). Default: token mode last + 1/f, wall mode now. */
  readonly timestamp?: number;
  /** A received Lamport time: the clock becomes max(local, received) + 1. */
  readonly lamportTime?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface EngineOptions {
  readonly encoder?: PhaseEncoder;
  /** Creation time (epoch seconds) stamped on the initial [1+0i] sample; default now. */
  readonly startTime?: number;
  /** Clock for "now" (epoch seconds); injectable for tests. */
  readonly now?: () => number;
}

/** JSON-safe snapshot (the reference's get_state, with T as [re, im]). */
export interface EngineSnapshot {
  readonly config: EngineConfig;
  readonly tTau: [number, number];
  readonly coherence: number;
  readonly coherenceMagnitude: number;
  readonly coherencePhase: number;
  readonly collapsed: boolean;
  readonly collapseTimestamp: number | null;
  readonly integrationCount: number;
  readonly recovery: number;
  readonly lamportClock: number;
  readonly historyLength: number;
}

export class TemporalEngine {
  readonly config: EngineConfig;
  readonly encoder: PhaseEncoder;
  private readonly ring: SampleRing;
  private readonly random: SeededRandom;
  private readonly now: () => number;
  private readonly lag: number;
  private readonly tokenStepMicros: number;
  private readonly carrierRe: Float64Array;
  private readonly carrierIm: Float64Array;
  /** Token-clock engines keep T incrementally; wall-clock engines integrate with a pass. */
  private readonly accumulator: TokenAccumulator | undefined;
  private collapsedFlag = false;
  private collapseTime: number | null = null;
  private count = 0;
  private recoveryVar = 0;
  private lamport = 0;
  /** T of the current state, memoised; undefined after any mutation. */
  private cachedT: Complex | undefined;

  constructor(config: Partial<EngineConfig> = {}, options: EngineOptions = {}) {
    this.config = resolveEngineConfig(config);
    this.encoder = options.encoder ?? hashPhaseEncoder;
    this.now = options.now ?? nowSeconds;
    this.ring = new SampleRing(this.config);
    this.random = new SeededRandom(this.config.seed);
    this.lag = tokenLag(this.config);
    // timedelta(seconds=1/f): microsecond resolution, half to even.
    this.tokenStepMicros = roundHalfEven((1.0 / this.config.tokenFrequency) * 1e6);
    [this.carrierRe, this.carrierIm] = tokenCarrier(this.config.historySize, this.config.omega, this.config.tokenFrequency);
    this.accumulator =
      this.config.clockMode === "token_clock"
        ? new TokenAccumulator(this.ring, this.lag, this.config.omega, this.config.tokenFrequency, this.config.noiseStd)
        : undefined;
    this.seed(options.startTime ?? this.now());
  }

  private seed(t: number): void {
    this.ring.clear();
    this.ring.append(new Float64Array([0]), normaliseTime(t), 0, 0, this.config.tauScale, this.config.omega);
    this.accumulator?.restart();
    this.cachedT = undefined;
  }

  /** Encodes `text`, appends it at its timestamp, integrates, and reports the state (ENGINE.md §3). */
  temporalize(text: string, options: TemporalizeOptions = {}): TemporalState {
    return this.step(text, options, this.config.clockMode);
  }

  /**
   * A token-clock stream: timestamps start, start + 1/f, …, integrated in token mode whatever the
   * engine's mode (without touching the config). Default start: the last stored timestamp + 1/f
   * (the reference reused the last timestamp, giving two samples the same stamp).
   */
  temporalizeStream(tokens: readonly string[], start?: number): TemporalState[] {
    let micros = start === undefined ? this.lastMicros() + this.tokenStepMicros : secondsToMicros(start);
    const out: TemporalState[] = [];
    for (const token of tokens) {
      out.push(this.step(token, { timestamp: micros / 1e6 }, "token_clock"));
      micros += this.tokenStepMicros;
    }
    return out;
  }

  private step(text: string, options: TemporalizeOptions, mode: ClockMode): TemporalState {
    if (typeof text !== "string") throw new TypeError("temporalize: text must be a string");
    if (options.lamportTime !== undefined && !Number.isFinite(options.lamportTime)) {
      throw new RangeError(`temporalize: lamportTime must be a finite number, got ${options.lamportTime}`);
    }
    let angles = this.encoder.encode(text);
    if (angles.length === 0) angles = new Float64Array([0]);
    for (let k = 0; k < angles.length; k++) {
      if (!Number.isFinite(angles[k])) throw new RangeError(`encoder ${this.encoder.name} returned a non-finite angle at ${k}`);
    }
    let t: number;
    if (options.timestamp !== undefined) {
      if (!Number.isFinite(options.timestamp)) throw new RangeError(`temporalize: timestamp must be finite epoch seconds, got ${options.timestamp}`);
      t = normaliseTime(options.timestamp);
    } else if (mode === "token_clock") {
      t = (this.lastMicros() + this.tokenStepMicros) / 1e6;
    } else {
      t = normaliseTime(this.now());
    }
    // One complex normal per input, drawn whether or not σ is 0, so runs with equal seeds align.
    const g1 = this.random.nextNormal();
    const g2 = this.random.nextNormal();
    const complexNoise = this.config.noiseKind === "complex";
    const slid = this.accumulator?.beforeAppend() ?? false;
    const slot = this.ring.append(angles, t, g1, complexNoise ? g2 : 0, this.config.tauScale, this.config.omega);
    this.accumulator?.afterAppend(slot, slid);
    this.maybeReanchor();
    this.cachedT = undefined;

    const T = this.integrate(mode);
    const c = T.re * T.re + T.im * T.im;
    if (c >= this.config.coherenceThreshold && !this.collapsedFlag && this.count + 1 >= this.config.minSamples) {
      this.collapsedFlag = true;
      this.collapseTime = t;
    }
    if (this.collapsedFlag) {
      const clipped = Math.min(1, Math.max(0, c));
      this.recoveryVar = nextRecovery(this.recoveryVar, clipped);
      const d = decayFactor(clipped, this.recoveryVar);
      if (this.accumulator) this.accumulator.dampen(d);
      else dampenScales(this.ring, d);
      this.cachedT = undefined;
    }
    this.count += 1;
    this.lamport += 1;
    if (options.lamportTime !== undefined) this.observeLamport(options.lamportTime);

    const newest = this.ring.newestSlot();
    const meanPhasor = { re: this.ring.meanRe[newest]!, im: this.ring.meanIm[newest]! };
    const eigenPhase = Math.atan2(meanPhasor.im, meanPhasor.re);
    return {
      angles,
      coherence: c,
      timestamp: t,
      lamportClock: this.lamport,
      tTau: T,
      collapsed: this.collapsedFlag,
      integration: this.count,
      eigenPhase,
      meanPhasor,
      metadata: { ...(options.metadata ?? {}) },
    };
  }

  /** Merges a received Lamport time without an input: L = max(L, received + 1). Never goes back. */
  observeLamport(received: number): number {
    if (!Number.isFinite(received)) throw new RangeError(`lamport time must be a finite number, got ${received}`);
    this.lamport = Math.max(this.lamport, Math.trunc(received) + 1);
    return this.lamport;
  }

  private integrate(mode: ClockMode): Complex {
    if (mode === "token_clock" && this.accumulator) return this.accumulator.tTau(this.recoveryVar);
    return computeTTau(this.ring, {
      mode,
      omega: this.config.omega,
      tokenFrequency: this.config.tokenFrequency,
      lag: this.lag,
      noiseStd: this.config.noiseStd,
      recovery: this.recoveryVar,
      tokenCarrierRe: this.carrierRe,
      tokenCarrierIm: this.carrierIm,
    });
  }

  private maybeReanchor(): void {
    // Keep the stored wall-clock carrier angles small so their rounding stays far below 1e-9.
    const t0 = this.ring.time[this.ring.head]!;
    if (Math.abs(this.config.omega * (t0 - this.ring.anchor)) > 1024) this.ring.reanchor(this.config.omega);
  }

  private lastMicros(): number {
    return secondsToMicros(this.ring.time[this.ring.newestSlot()]!);
  }

  /** T_tau of the current state (pure: memoised, no noise drawn). */
  get tTau(): Complex {
    if (this.cachedT === undefined) this.cachedT = this.integrate(this.config.clockMode);
    return this.cachedT;
  }

  /** clamp(|T|², 0, 1). */
  get coherence(): number {
    const T = this.tTau;
    return Math.min(1, Math.max(0, T.re * T.re + T.im * T.im));
  }

  get coherenceMagnitude(): number {
    return complexAbs(this.tTau);
  }

  get coherencePhase(): number {
    return complexArg(this.tTau);
  }

  get collapsed(): boolean {
    return this.collapsedFlag;
  }

  get collapseTimestamp(): number | null {
    return this.collapseTime;
  }

  get integrationCount(): number {
    return this.count;
  }

  /** The recovery variable w. */
  get recovery(): number {
    return this.recoveryVar;
  }

  get lamportClock(): number {
    return this.lamport;
  }

  /** Samples stored, the initial one included. */
  get historyLength(): number {
    return this.ring.count;
  }

  /** Epoch seconds of the newest sample. */
  get lastTimestamp(): number {
    return this.ring.time[this.ring.newestSlot()]!;
  }

  /** Fresh |T|² against I_c, ignoring the latch (the reference's check_collapse). */
  checkCollapse(): { readonly atThreshold: boolean; readonly coherence: number } {
    const T = this.tTau;
    const c = T.re * T.re + T.im * T.im;
    return { atThreshold: c >= this.config.coherenceThreshold, coherence: c };
  }

  /**
   * Back to the creation state: one [1+0i] sample stamped `at` (default now), not collapsed, count 0,
   * w = 0. The Lamport clock is kept (it never goes backwards); the noise stream continues.
   */
  reset(at?: number): void {
    this.seed(at ?? this.now());
    this.collapsedFlag = false;
    this.collapseTime = null;
    this.count = 0;
    this.recoveryVar = 0;
  }

  snapshot(): EngineSnapshot {
    const T = this.tTau;
    return {
      config: this.config,
      tTau: [T.re, T.im],
      coherence: this.coherence,
      coherenceMagnitude: this.coherenceMagnitude,
      coherencePhase: this.coherencePhase,
      collapsed: this.collapsedFlag,
      collapseTimestamp: this.collapseTime,
      integrationCount: this.count,
      recovery: this.recoveryVar,
      lamportClock: this.lamport,
      historyLength: this.ring.count,
    };
  }
}

function normaliseTime(t: number): number {
  return secondsToMicros(t) / 1e6;
}
