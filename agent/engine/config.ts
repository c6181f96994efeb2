import { roundHalfEven } from "./rounding.js";

export type ClockMode = "token_clock" | "wall_clock";

/** Engine configuration (ENGINE.md §2). Defaults are the reference's, plus `minSamples` and `seed`. */
export interface EngineConfig {
  /** τ, the lag in seconds. */
  readonly tauScale: number;
  /** ω, the carrier in rad/s. */
  readonly omega: number;
  /** I_c: collapse when |T|² ≥ I_c. */
  readonly coherenceThreshold: number;
  /** H: the most (phase, timestamp) pairs kept, the initial one included. */
  readonly historySize: number;
  readonly clockMode: ClockMode;
  /** f in Hz: token-clock spacing is 1/f. */
  readonly tokenFrequency: number;
  /** σ of the SDE noise; 0 reproduces the reference exactly. */
  readonly noiseStd: number;
  /** Seed of the noise generator (any 32-bit integer). */
  readonly seed: number;
  /**
   * Warm-up (the reference's unused `min_samples`): no collapse before this many inputs since
   * creation or reset. 1 reproduces the reference (and the golden vectors), which collapses on its
   * very first input; the transducers use PRODUCT_MIN_SAMPLES.
   */
  readonly minSamples: number;
  /**
   * "complex" (the reference: dW = (N + iN)·√dt, E|dW|² = 2dt) or "real" (the corrected real-valued
   * increment, dW = N·√dt).
   */
  readonly noiseKind: "complex" | "real";
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  tauScale: 1.0,
  omega: 2 * Math.PI,
  coherenceThreshold: 0.95,
  historySize: 10000,
  clockMode: "wall_clock",
  tokenFrequency: 20.0,
  noiseStd: 0.005,
  seed: 0,
  minSamples: 1,
  noiseKind: "complex",
};

/**
 * The warm-up the product uses: the reference's own `min_samples` (10). With k unrelated inputs
 * coherence is about 1/k, so after 10 inputs a collapse at I_c ≥ 0.7 needs sustained alignment,
 * not the single-term |T| = 1 of a fresh engine.
 */
export const PRODUCT_MIN_SAMPLES = 10;

/** Token lag L = max(1, round_half_even(τ·f)). */
export function tokenLag(config: Pick<EngineConfig, "tauScale" | "tokenFrequency">): number {
  return Math.max(1, roundHalfEven(config.tauScale * config.tokenFrequency));
}

export class EngineConfigError extends RangeError {
  override readonly name = "EngineConfigError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Fills defaults and checks every field; throws EngineConfigError naming the bad field. */
export function resolveEngineConfig(partial: Partial<EngineConfig> = {}): EngineConfig {
  const c: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...stripUndefined(partial) };
  const finite = (field: keyof EngineConfig, v: number, positive: boolean) => {
    if (typeof v !== "number" || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
      throw new EngineConfigError(field, `must be a finite number ${positive ? "> 0" : "≥ 0"}, got ${String(v)}`);
    }
  };
  finite("tauScale", c.tauScale, true);
  if (typeof c.omega !== "number" || !Number.isFinite(c.omega)) {
    throw new EngineConfigError("omega", `must be a finite number, got ${String(c.omega)}`);
  }
  finite("coherenceThreshold", c.coherenceThreshold, false);
  finite("tokenFrequency", c.tokenFrequency, true);
  finite("noiseStd", c.noiseStd, false);
  if (!Number.isInteger(c.historySize) || c.historySize < 1 || c.historySize > 10_000_000) {
    throw new EngineConfigError("historySize", `must be an integer in [1, 10000000], got ${String(c.historySize)}`);
  }
  if (c.clockMode !== "token_clock" && c.clockMode !== "wall_clock") {
    throw new EngineConfigError("clockMode", `must be "token_clock" or "wall_clock", got ${JSON.stringify(c.clockMode)}`);
  }
  if (!Number.isInteger(c.seed)) throw new EngineConfigError("seed", `must be an integer, got ${String(c.seed)}`);
  if (!Number.isInteger(c.minSamples) || c.minSamples < 1) {
    throw new EngineConfigError("minSamples", `must be an integer ≥ 1, got ${String(c.minSamples)}`);
  }
  if (c.noiseKind !== "complex" && c.noiseKind !== "real") {
    throw new EngineConfigError("noiseKind", `must be "complex" or "real", got ${JSON.stringify(c.noiseKind)}`);
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
