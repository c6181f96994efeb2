/**
 * T_tau over the stored samples (ENGINE.md §4–§5), from the per-sample data the ring derived when
 * each sample was added: one pass of scalar arithmetic per sample, no vector work and no random
 * draws, so a read is pure and reproducible.
 *
 *   T = Σ_i s_i · e^{iω t_rel,i} · dt_i / Σ_i dt_i
 *
 * s_i is the lagged inner product of sample i with its partner j, after normalisation: the unit
 * direction of B (flipped when the coupling |b| + K·r·m is negative, 0 when it is 0), times the
 * noise factor 1 + σ·dW_i and the drift factor 1 + μ·dt (μ = −0.5·w), each renormalised when its
 * magnitude exceeds 1. The reference renormalises the product 1 + μ·dt + σ·dW once; the two agree
 * exactly at σ = 0 and differ by the cross term σ·μ·dt·dW otherwise (see docs/engine.md): splitting
 * them is what lets the token-clock sum be kept incrementally (token-accumulator.ts).
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
  const M = ring.count;
  if (M < 2) return { re: 1, im: 0 };
  const mu = -0.5 * p.recovery;
  const sigma = p.noiseStd;
  const token = p.mode === "token_clock";
  const tokenDt = 1.0 / p.tokenFrequency;
  const tokenSqrtDt = Math.sqrt(tokenDt);
  const lag = p.lag;
  const seq0 = ring.seq[ring.head]!;
  const slot0 = ring.head;
  const cap = ring.capacity;
  // Local references: this loop runs once per stored sample per tick.
  const seqA = ring.seq;
  const timeA = ring.time;
  const natA = ring.naturalPartner;
  const partA = ring.termPartner;
  const absBA = ring.termAbsB;
  const crossA = ring.termCross;
  const scaleA = ring.scale;
  const rpA = ring.termRp;
  const mA = ring.termM;
  const dirReA = ring.termDirRe;
  const dirImA = ring.termDirIm;
  const nReA = ring.noiseRe;
  const nImA = ring.noiseIm;
  const rotReA = token ? p.tokenCarrierRe : ring.rotRe;
  const rotImA = token ? p.tokenCarrierIm : ring.rotIm;
  let sRe = 0;
  let sIm = 0;
  let D = 0;
  let prevSlot = slot0;
  let e = slot0;
  for (let i = 1; i < M; i++) {
    e = e + 1 === cap ? 0 : e + 1;
    let dt: number;
    let partner: number;
    let sq: number;
    if (token) {
      dt = tokenDt;
      sq = tokenSqrtDt;
      partner = i >= lag ? seqA[e]! - lag : seq0;
    } else {
      dt = timeA[e]! - timeA[prevSlot]!;
      prevSlot = e;
      if (dt <= 0) continue;
      sq = Math.sqrt(dt);
      const natural = natA[e]!;
      partner = natural > seq0 ? natural : seq0;
    }
    if (partA[e] !== partner) ring.ensureTerm(e, partner);
    D += dt;
    const absB = absBA[e]!;
    if (!(absB > 0)) continue;
    let sign = 1;
    if (crossA[e] === 0) {
      // sign of |b| + K·r·m = a_p·(a_e·|B| + |mean u_p|·m)
      const v = scaleA[e]! * absB + rpA[e]! * mA[e]!;
      if (v < 0) sign = -1;
      else if (!(v > 0)) continue;
    }
    // Noise factor 1 + σ·dW, renormalised when above 1; then the drift factor 1 + μ·dt, likewise.
    let nRe = 1 + sigma * nReA[e]! * sq;
    let nIm = sigma * nImA[e]! * sq;
    const n2 = nRe * nRe + nIm * nIm;
    if (n2 > 1) {
      const n = Math.sqrt(n2);
      nRe /= n;
      nIm /= n;
    }
    let drift = 1 + mu * dt;
    if (drift > 1 || drift < -1) drift = drift > 0 ? 1 : -1;
    const dirRe = sign * dirReA[e]! * drift;
    const dirIm = sign * dirImA[e]! * drift;
    const re = dirRe * nRe - dirIm * nIm;
    const im = dirRe * nIm + dirIm * nRe;
    const ci = token ? i : e;
    const cRe = rotReA[ci]!;
    const cIm = rotImA[ci]!;
    sRe += (re * cRe - im * cIm) * dt;
    sIm += (re * cIm + im * cRe) * dt;
  }
  if (!token) {
    // The wall carrier was stored relative to an anchor; bring it to t_rel = t − t_0.
    const r0Re = ring.rotRe[slot0]!;
    const r0Im = ring.rotIm[slot0]!;
    const re = sRe * r0Re + sIm * r0Im;
    const im = sIm * r0Re - sRe * r0Im;
    sRe = re;
    sIm = im;
  }
  return D > 0 ? { re: sRe / D, im: sIm / D } : { re: sRe, im: sIm };
}
