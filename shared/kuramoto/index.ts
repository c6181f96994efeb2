/**
 * Kuramoto mean field and the agent's phase step (SYSTEM.md §3). The all-to-all coupling
 * (K/N) Σ_j sin(θ_j − θ_i) equals K·r·sin(ψ − θ_i) with r·e^{iψ} = (1/N) Σ_j w_j e^{iθ_j}, so the
 * coordinator keeps one sum and each agent does O(1) work per tick.
 *
 * Pure code: no I/O, no clocks. Times are epoch milliseconds, phases radians, frequencies rad/s.
 */

const TWO_PI = 2 * Math.PI;

/** Wraps a phase into (−π, π]. */
export function wrapPhase(theta: number): number {
  const wrapped = theta - TWO_PI * Math.floor((theta + Math.PI) / TWO_PI);
  // floor puts exactly −π at −π; the interval is half-open the other way.
  return wrapped === -Math.PI ? Math.PI : wrapped;
}

/** One agent's reported oscillator: phase θ sampled at time t, natural frequency ω, weight w ≥ 0. */
export interface PhaseReport {
  readonly theta: number;
  readonly omega: number;
  readonly t: number;
  readonly weight: number;
}

/** θ advanced freely (by ω alone) from the report's time to `atMs`. */
export function alignPhase(report: Pick<PhaseReport, "theta" | "omega" | "t">, atMs: number): number {
  return report.theta + (report.omega * (atMs - report.t)) / 1000;
}

/**
 * The additive part of a mean field: Σ w e^{iθ}, Σ w, Σ w ω and the count of contributing agents.
 * Sums of disjoint groups add up exactly, which is how cells of a sharded fleet combine.
 */
export interface FieldSum {
  readonly re: number;
  readonly im: number;
  readonly weight: number;
  readonly weightedOmega: number;
  readonly n: number;
}

export const EMPTY_FIELD_SUM: FieldSum = { re: 0, im: 0, weight: 0, weightedOmega: 0, n: 0 };

/** Sums the reports with weight > 0, each aligned to the common time `atMs`. */
export function fieldSum(reports: Iterable<PhaseReport>, atMs: number): FieldSum {
  let re = 0;
  let im = 0;
  let weight = 0;
  let weightedOmega = 0;
  let n = 0;
  for (const report of reports) {
    if (!(report.weight > 0) || !Number.isFinite(report.theta) || !Number.isFinite(report.omega)) continue;
    const theta = alignPhase(report, atMs);
    re += report.weight * Math.cos(theta);
    im += report.weight * Math.sin(theta);
    weight += report.weight;
    weightedOmega += report.weight * report.omega;
    n += 1;
  }
  return { re, im, weight, weightedOmega, n };
}

/** Adds two field sums (e.g. of two cells), exactly. */
export function addFieldSums(a: FieldSum, b: FieldSum): FieldSum {
  return {
    re: a.re + b.re,
    im: a.im + b.im,
    weight: a.weight + b.weight,
    weightedOmega: a.weightedOmega + b.weightedOmega,
    n: a.n + b.n,
  };
}

/** The fleet's mean field at time `t`: order parameter r ∈ [0, 1], mean phase ψ, mean frequency Ω, N. */
export interface MeanField {
  readonly r: number;
  readonly psi: number;
  readonly omega: number;
  readonly n: number;
  readonly t: number;
}

/** r·e^{iψ} = Σ w e^{iθ} / Σ w; Ω = Σ w ω / Σ w. An empty field is r = 0, ψ = 0, Ω = 0, N = 0. */
export function meanFieldFromSum(sum: FieldSum, atMs: number): MeanField {
  if (!(sum.weight > 0)) return { r: 0, psi: 0, omega: 0, n: 0, t: atMs };
  const re = sum.re / sum.weight;
  const im = sum.im / sum.weight;
  // Rounding can push |z| a hair above 1 when all phases agree.
  const r = Math.min(1, Math.hypot(re, im));
  return { r, psi: Math.atan2(im, re), omega: sum.weightedOmega / sum.weight, n: sum.n, t: atMs };
}

/** The mean field of the reports, aligned to `atMs`. */
export function meanField(reports: Iterable<PhaseReport>, atMs: number): MeanField {
  return meanFieldFromSum(fieldSum(reports, atMs), atMs);
}

/** ψ advanced by Ω from the field's time to `atMs` (how an agent reads a field between broadcasts). */
export function fieldPhaseAt(field: Pick<MeanField, "psi" | "omega" | "t">, atMs: number): number {
  return field.psi + (field.omega * (atMs - field.t)) / 1000;
}

export interface StepOptions {
  /** Coupling K. */
  readonly coupling: number;
  /** Largest |coupling step| per tick, radians (the reference's 0.05 rad "tear protection"). */
  readonly maxStep: number;
  /** Optional noise term already scaled for this tick (e.g. σ·√dt·N(0,1)); default 0. */
  readonly noise?: number;
}

/**
 * One agent tick: θ' = θ + ω dt + clamp(K r sin(ψ − θ) dt + noise, ±maxStep), wrapped to (−π, π].
 * Only the coupling (and noise) part is clamped: clamping ω dt too would cap every agent's natural
 * frequency at maxStep per tick (1 rad/s at 20 Hz), which is not what the limit is for.
 *
 * Requires dtSeconds ≥ 0 and maxStep ≥ 0. `r` and `psi` are the field evaluated at this tick's time
 * ({@link fieldPhaseAt}); with no field (r = 0) the oscillator runs free.
 */
export function kuramotoStep(
  theta: number,
  omega: number,
  dtSeconds: number,
  field: { readonly r: number; readonly psi: number },
  options: StepOptions,
): number {
  if (!(dtSeconds >= 0)) throw new RangeError(`kuramotoStep: dtSeconds must be ≥ 0, got ${dtSeconds}`);
  if (!(options.maxStep >= 0)) throw new RangeError(`kuramotoStep: maxStep must be ≥ 0, got ${options.maxStep}`);
  const pull = options.coupling * field.r * Math.sin(field.psi - theta) * dtSeconds + (options.noise ?? 0);
  const clamped = Math.max(-options.maxStep, Math.min(options.maxStep, pull));
  return wrapPhase(theta + omega * dtSeconds + clamped);
}
