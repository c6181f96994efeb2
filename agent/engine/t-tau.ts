/**
 * T_tau over the stored samples (ENGINE.md §4–§5), from the per-sample data the ring derived when
 * each sample was added: one pass of scalar arithmetic per sample, no vector work and no random
 * draws, so a read is reproducible.
 *
 *   T = Σ_i s_i · e^{iω t_rel,i} · dt_i / Σ_i dt_i
 *
 * s_i is the lagged inner product of sample i with its partner j, after normalisation: the unit
 * direction of B (flipped when the coupling |b| + K·r·m is negative, 0 when it is 0), times the
 * noise factor 1 + σ·dW_i and the drift factor 1 + μ·dt (μ = −0.5·w), each renormalised when its
 * magnitude exceeds 1. The reference renormalises the product 1 + μ·dt + σ·dW once; the two agree
 * exactly at σ = 0 and differ by the cross term σ·μ·dt·dW otherwise (see docs/engine.md): splitting
 * them is what lets the token-clock sum be kept incrementally (token-accumulator.ts). In wall
 * mode each term's fixed part is cached in the ring (see wallSum); a read returns the same value
 * with or without that cache.
 */
import type { ClockMode } from "./config.js";
import type { Complex } from "./complex.js";
import type { SampleRing } from "./sample-ring.js";

export interface TTauParams {
  readonly mode: ClockMode;
  readonly omega: number;
  readonly tokenFrequency: number;
  readonly lag: number;
  readonly noiseStd: number;
  /** The recovery variable w. */
  readonly recovery: number;
  /** e^{iω·i·dt} for positions i = 0..H−1 (token mode). */
  readonly tokenCarrierRe: Float64Array;
  readonly tokenCarrierIm: Float64Array;
}

/** Precomputes the token-mode carrier e^{iω·(i·dt)} by position, in the reference's operation order. */
export function tokenCarrier(historySize: number, omega: number, tokenFrequency: number): [Float64Array, Float64Array] {
  const re = new Float64Array(historySize);
  const im = new Float64Array(historySize);
  const dt = 1.0 / tokenFrequency;
  for (let i = 0; i < historySize; i++) {
    const phase = omega * (i * dt);
    re[i] = Math.cos(phase);
    im[i] = Math.sin(phase);
  }
  return [re, im];
}

export function computeTTau(ring: SampleRing, p: TTauParams): Complex {
  if (ring.count < 2) return { re: 1, im: 0 };
  return p.mode === "token_clock" ? tokenSum(ring, p) : wallSum(ring, p);
}

/**
 * Forms slot e's term against `partner` if it is not already, and returns the term's sign: that of
 * |b| + K·r·m = a_p·(a_e·|B| + |mean u_p|·m) for a same-dimension term, 1 across dimensions, and 0
 * (the term drops out) when B = 0 or the coupling is exactly 0.
 */
function termSign(ring: SampleRing, e: number, partner: number): number {
  if (ring.termPartner[e] !== partner) ring.ensureTerm(e, partner);
  const absB = ring.termAbsB[e]!;
  if (!(absB > 0)) return 0;
  if (ring.termCross[e] !== 0) return 1;
  const v = ring.scale[e]! * absB + ring.termRp[e]! * ring.termM[e]!;
  return v < 0 ? -1 : v > 0 ? 1 : 0;
}

/** Noise factor 1 + σ·dW with dW = z·√dt, renormalised when its magnitude exceeds 1. */
function noiseFactor(ring: SampleRing, e: number, sigma: number, sq: number): [number, number] {
  let nRe = 1 + sigma * ring.noiseRe[e]! * sq;
  let nIm = sigma * ring.noiseIm[e]! * sq;
  const n2 = nRe * nRe + nIm * nIm;
  if (n2 > 1) {
    const n = Math.sqrt(n2);
    nRe /= n;
    nIm /= n;
  }
  return [nRe, nIm];
}

/** The drift factor 1 + μ·dt, clamped to [−1, 1]. */
function driftFactor(mu: number, dt: number): number {
  const drift = 1 + mu * dt;
  return drift > 1 || drift < -1 ? (drift > 0 ? 1 : -1) : drift;
}

/**
 * Token clock: dt = 1/f, partner L positions back (clamped to the oldest), carrier by position.
 * Only wall-clock engines fed a token stream get here; token engines keep T incrementally.
 */
function tokenSum(ring: SampleRing, p: TTauParams): Complex {
  const M = ring.count;
  const mu = -0.5 * p.recovery;
  const sigma = p.noiseStd;
  const dt = 1.0 / p.tokenFrequency;
  const sq = Math.sqrt(dt);
  const lag = p.lag;
  const seq0 = ring.seq[ring.head]!;
  const cap = ring.capacity;
  // Local references: this loop runs once per stored sample per read.
  const seqA = ring.seq;
  const drift = driftFactor(mu, dt);
  let sRe = 0;
  let sIm = 0;
  let D = 0;
  let e = ring.head;
  for (let i = 1; i < M; i++) {
    e = e + 1 === cap ? 0 : e + 1;
    const partner = i >= lag ? seqA[e]! - lag : seq0;
    D += dt;
    const sign = termSign(ring, e, partner);
    if (sign === 0) continue;
    const [bRe, bIm] = termBase(ring, e, sigma, sq, p.tokenCarrierRe[i]!, p.tokenCarrierIm[i]!, dt);
    const k = sign * drift;
    sRe += k * bRe;
    sIm += k * bIm;
  }
  return D > 0 ? { re: sRe / D, im: sIm / D } : { re: sRe, im: sIm };
}

/**
 * Wall clock: dt from the timestamps (non-positive gaps skipped), the τ-lagged natural partner
 * (clamped to the oldest), the carrier stored relative to an anchor. Each term's fixed factor is
 * formed once per stored sample (ring.wallBase*); a pass multiplies it by sign × drift.
 */
function wallSum(ring: SampleRing, p: TTauParams): Complex {
  const M = ring.count;
  const mu = -0.5 * p.recovery;
  const sigma = p.noiseStd;
  if (ring.wallBaseSigma !== sigma) {
    ring.wallBaseOk.fill(0);
    ring.wallBaseSigma = sigma;
  }
  const seq0 = ring.seq[ring.head]!;
  const slot0 = ring.head;
  const cap = ring.capacity;
  const timeA = ring.time;
  const natA = ring.naturalPartner;
  const okA = ring.wallBaseOk;
  const baseReA = ring.wallBaseRe;
  const baseImA = ring.wallBaseIm;
  let sRe = 0;
  let sIm = 0;
  let D = 0;
  let prevSlot = slot0;
  let e = slot0;
  for (let i = 1; i < M; i++) {
    e = e + 1 === cap ? 0 : e + 1;
    const dt = timeA[e]! - timeA[prevSlot]!;
    prevSlot = e;
    if (dt <= 0) continue;
    const natural = natA[e]!;
    const partner = natural > seq0 ? natural : seq0;
    D += dt;
    const sign = termSign(ring, e, partner);
    if (sign === 0) continue;
    if (okA[e] === 0) formWallBase(ring, e, sigma, dt);
    const k = sign * driftFactor(mu, dt);
    sRe += k * baseReA[e]!;
    sIm += k * baseImA[e]!;
  }
  // The carrier was stored relative to an anchor; bring it to t_rel = t − t_0.
  const r0Re = ring.rotRe[slot0]!;
  const r0Im = ring.rotIm[slot0]!;
  const re = sRe * r0Re + sIm * r0Im;
  const im = sIm * r0Re - sRe * r0Im;
  return D > 0 ? { re: re / D, im: im / D } : { re, im };
}

/**
 * A term's factor before sign and drift: unit direction × noise factor × carrier (cRe, cIm) × dt,
 * for slot e whose partner term is already formed. Both sums multiply it by sign × drift.
 */
function termBase(ring: SampleRing, e: number, sigma: number, sq: number, cRe: number, cIm: number, dt: number): [number, number] {
  const [nRe, nIm] = noiseFactor(ring, e, sigma, sq);
  const dirRe = ring.termDirRe[e]!;
  const dirIm = ring.termDirIm[e]!;
  const re = dirRe * nRe - dirIm * nIm;
  const im = dirRe * nIm + dirIm * nRe;
  return [(re * cRe - im * cIm) * dt, (re * cIm + im * cRe) * dt];
}

/** Caches slot e's wall-clock term base (its carrier is stored in the ring). */
function formWallBase(ring: SampleRing, e: number, sigma: number, dt: number): void {
  [ring.wallBaseRe[e], ring.wallBaseIm[e]] = termBase(ring, e, sigma, Math.sqrt(dt), ring.rotRe[e]!, ring.rotIm[e]!, dt);
  ring.wallBaseOk[e] = 1;
}
