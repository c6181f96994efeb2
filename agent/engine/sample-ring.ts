/**
 * The engine's history: at most H (phase vector, timestamp) samples, oldest first, in a ring of
 * typed arrays. A full 384-dimensional vector is NOT kept per sample; what the T_tau sum needs is
 * derived once, when a sample is added:
 * - its mean phasor (for the different-dimension inner product and r = |mean|), its unit norm ‖u‖;
 * - its scalar scale a (dampening multiplies a whole vector by a positive factor, which leaves the
 *   angles unchanged, so vector = a·u with u the unit phasors);
 * - B(e, p) = (1/n)·Σ conj(u_p,k)·u_e,k against each partner p it can ever be paired with. In token
 *   mode those are the P = min(L, H−1) samples before it, kept in a pair table (P complex per
 *   sample); only the last P vectors are kept, to compute it. In wall-clock mode the partner is data
 *   dependent, so every sample's angles are kept (and likewise in token mode when the pair table
 *   would be larger than the vectors): n doubles instead of the 2n of its unit phasors, which are
 *   recomputed (bit for bit: the same Math.cos/Math.sin of the same angles) for a term whose
 *   operand is not one of the two newest samples. At 20 Hz that halves the Emissary's 1,000-sample
 *   window from 6 MB to 3 MB; a new sample's partner is almost always the one before it, whose
 *   phasors are still cached.
 * - one complex standard normal z per sample, drawn when it is added (its term's dW = z·√dt).
 */
import type { EngineConfig } from "./config.js";
import { tokenLag } from "./config.js";

/** A term's cached inner-product data for one partner. */
export interface TermData {
  /** Unit direction of B (or of mean(u_e)·conj(mean(u_p)) across dimensions). */
  dirRe: number;
  dirIm: number;
  /** |B|; 0 makes the term 0. */
  absB: number;
  /** mean sin(Δ angle) = Im B, the coupling's m. */
  m: number;
  /** r/a_p = |mean(u_p)|. */
  rp: number;
  /** Different dimensions: no coupling, the sign never flips. */
  cross: boolean;
}

const PAIR_TABLE_LIMIT = 4_000_000; // complex entries (64 MB) above which full vectors are cheaper

export class SampleRing {
  readonly capacity: number;
  /** Pair-table depth (token mode), 0 when full vectors are kept. */
  readonly pairDepth: number;
  readonly keepsVectors: boolean;
  /** Wall-clock engines need each sample's τ-lagged partner; token engines never use it. */
  private readonly findsPartners: boolean;

  count = 0;
  head = 0;
  private nextSeq = 0;

  readonly seq: Float64Array;
  readonly time: Float64Array;
  readonly dim: Int32Array;
  readonly meanRe: Float64Array;
  readonly meanIm: Float64Array;
  readonly meanAbs: Float64Array;
  readonly unitNorm: Float64Array;
  readonly scale: Float64Array;
  readonly noiseRe: Float64Array;
  readonly noiseIm: Float64Array;
  /** Wall mode: seq of the newest earlier sample with t ≤ t_e − τ found when e was added, or −1. */
  readonly naturalPartner: Float64Array;
  /** e^{iω(t_e − anchor)} for the wall-clock carrier. */
  readonly rotRe: Float64Array;
  readonly rotIm: Float64Array;
  anchor = 0;

  // Term cache: the partner seq the cached data was formed with (−1: none yet).
  readonly termPartner: Float64Array;
  readonly termDirRe: Float64Array;
  readonly termDirIm: Float64Array;
  readonly termAbsB: Float64Array;
  readonly termM: Float64Array;
  readonly termRp: Float64Array;
  readonly termCross: Uint8Array;

  /**
   * Wall mode: each term's factor that stays fixed while the sample is stored — unit direction ×
   * noise factor × carrier × dt — so a T_tau pass only multiplies it by sign × drift (which change
   * with dampening and recovery). Invalid (0 in `wallBaseOk`) until formed, and again whenever the
   * term, the carrier anchor or the noise σ changes.
   */
  readonly wallBaseRe: Float64Array;
  readonly wallBaseIm: Float64Array;
  readonly wallBaseOk: Uint8Array;
  /** The σ the wall bases were formed with. */
  wallBaseSigma = Number.NaN;

  private readonly pairRe: Float64Array;
  private readonly pairIm: Float64Array;
  /**
   * keepsVectors: each slot's angles (n doubles). Otherwise: interleaved (re, im) unit vectors of
   * the last P samples, for the pair table.
   */
  private readonly vectors: (Float64Array | undefined)[];
  private readonly vectorSlots: number;
  /** keepsVectors: interleaved unit vectors of the two newest samples, by seq (−1: empty). */
  private readonly recentUnitSeq = [-1, -1];
  private readonly recentUnit: (Float64Array | undefined)[] = [undefined, undefined];
  /** keepsVectors: where a term's operands are rebuilt when they are not among the recent ones. */
  private scratchA: Float64Array | undefined;
  private scratchB: Float64Array | undefined;

  constructor(
    config: Pick<EngineConfig, "historySize" | "clockMode" | "tauScale" | "tokenFrequency" | "omega">,
  ) {
    const H = config.historySize;
    this.capacity = H;
    const depth = Math.min(tokenLag(config), Math.max(H - 1, 1));
    this.keepsVectors = config.clockMode === "wall_clock" || H * depth > PAIR_TABLE_LIMIT;
    this.pairDepth = this.keepsVectors ? 0 : depth;
    this.findsPartners = config.clockMode === "wall_clock";
    const f64 = () => new Float64Array(H);
    this.seq = f64();
    this.time = f64();
    this.dim = new Int32Array(H);
    this.meanRe = f64();
    this.meanIm = f64();
    this.meanAbs = f64();
    this.unitNorm = f64();
    this.scale = f64();
    this.noiseRe = f64();
    this.noiseIm = f64();
    this.naturalPartner = f64();
    this.rotRe = f64();
    this.rotIm = f64();
    this.termPartner = f64();
    this.termDirRe = f64();
    this.termDirIm = f64();
    this.termAbsB = f64();
    this.termM = f64();
    this.termRp = f64();
    this.termCross = new Uint8Array(H);
    this.wallBaseRe = f64();
    this.wallBaseIm = f64();
    this.wallBaseOk = new Uint8Array(H);
    this.pairRe = new Float64Array(H * this.pairDepth);
    this.pairIm = new Float64Array(H * this.pairDepth);
    this.vectorSlots = this.keepsVectors ? H : this.pairDepth + 1;
    this.vectors = new Array<Float64Array | undefined>(this.vectorSlots).fill(undefined);
  }

  /** Slot of the sample at position i (0 = oldest). */
  slotAt(i: number): number {
    const s = this.head + i;
    return s >= this.capacity ? s - this.capacity : s;
  }

  /** Slot of the sample with sequence number `seq`, assuming it is stored. */
  slotOfSeq(seq: number): number {
    return this.slotAt(seq - this.seq[this.head]!);
  }

  newestSlot(): number {
    return this.slotAt(this.count - 1);
  }

  clear(): void {
    this.count = 0;
    this.head = 0;
    this.vectors.fill(undefined);
    this.recentUnitSeq.fill(-1);
    this.wallBaseOk.fill(0);
  }

  /**
   * Appends a sample (dropping the oldest when full) and derives everything the sum needs from its
   * vector. `angles` are radians; `tau` and `omega` feed the wall-clock partner and carrier.
   */
  append(angles: Float64Array, t: number, noiseRe: number, noiseIm: number, tau: number, omega: number): number {
    const n = angles.length;
    // Recycle buffers instead of allocating per input (at 20 Hz a sample's data would otherwise live
    // ~50 s and then burden the old space): keeping angles, the oldest sample's when the ring is
    // full (nothing pairs with an evicted sample) and the older recent unit vector; otherwise token
    // mode's small vector ring.
    let vec: Float64Array;
    let kept: Float64Array | undefined;
    if (this.keepsVectors) {
      const r = this.recentUnitSeq[0]! < this.recentUnitSeq[1]! ? 0 : 1;
      const oldUnit = this.recentUnit[r];
      vec = oldUnit !== undefined && oldUnit.length === 2 * n ? oldUnit : new Float64Array(2 * n);
      this.recentUnit[r] = vec;
      this.recentUnitSeq[r] = this.nextSeq;
      const evicted = this.count === this.capacity ? this.vectors[this.head] : undefined;
      kept = evicted !== undefined && evicted.length === n ? evicted : new Float64Array(n);
      kept.set(angles);
    } else {
      const recycleAt = this.nextSeq % this.vectorSlots;
      const old = this.vectors[recycleAt];
      vec = old !== undefined && old.length === 2 * n ? old : new Float64Array(2 * n);
      this.vectors[recycleAt] = undefined;
    }
    let sr = 0;
    let si = 0;
    let sq = 0;
    for (let k = 0; k < n; k++) {
      const c = Math.cos(angles[k]!);
      const s = Math.sin(angles[k]!);
      vec[2 * k] = c;
      vec[2 * k + 1] = s;
      sr += c;
      si += s;
      sq += c * c + s * s;
    }
    let slot: number;
    if (this.count < this.capacity) {
      slot = this.slotAt(this.count);
      this.count += 1;
    } else {
      slot = this.head;
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    }
    const seq = this.nextSeq++;
    this.seq[slot] = seq;
    this.time[slot] = t;
    this.dim[slot] = n;
    this.meanRe[slot] = sr / n;
    this.meanIm[slot] = si / n;
    this.meanAbs[slot] = Math.hypot(sr / n, si / n);
    this.unitNorm[slot] = Math.sqrt(sq);
    this.scale[slot] = 1;
    this.noiseRe[slot] = noiseRe;
    this.noiseIm[slot] = noiseIm;
    this.termPartner[slot] = -1;
    this.wallBaseOk[slot] = 0;
    if (this.count === 1) this.anchor = t;
    const phase = omega * (t - this.anchor);
    this.rotRe[slot] = Math.cos(phase);
    this.rotIm[slot] = Math.sin(phase);

    // Wall clock: the newest earlier sample (position ≥ 1) with t_j ≤ t − τ, found once.
    let natural = -1;
    for (let j = this.findsPartners ? this.count - 2 : 0; j > 0; j--) {
      const js = this.slotAt(j);
      if (!(this.time[js]! > t - tau)) {
        natural = this.seq[js]!;
        break;
      }
    }
    this.naturalPartner[slot] = natural;

    if (this.keepsVectors) {
      this.vectors[slot] = kept;
    } else {
      const P = this.pairDepth;
      const base = slot * P;
      for (let k = 1; k <= P; k++) {
        const pv = seq - k >= 0 ? this.vectors[(seq - k) % this.vectorSlots] : undefined;
        if (pv === undefined || pv.length !== vec.length || seq - k < this.seq[this.head]!) {
          this.pairRe[base + k - 1] = Number.NaN;
          this.pairIm[base + k - 1] = Number.NaN;
          continue;
        }
        const b = innerB(vec, pv);
        this.pairRe[base + k - 1] = b[0];
        this.pairIm[base + k - 1] = b[1];
      }
      this.vectors[seq % this.vectorSlots] = vec;
    }
    return slot;
  }

  /** Re-expresses the wall-clock carrier relative to a new anchor (keeps its angles small). */
  reanchor(omega: number): void {
    const t0 = this.time[this.head]!;
    this.anchor = t0;
    this.wallBaseOk.fill(0);
    for (let i = 0; i < this.count; i++) {
      const s = this.slotAt(i);
      const phase = omega * (this.time[s]! - t0);
      this.rotRe[s] = Math.cos(phase);
      this.rotIm[s] = Math.sin(phase);
    }
  }

  /** Makes sure slot `e`'s cached term is formed against the sample with sequence `partnerSeq`. */
  ensureTerm(e: number, partnerSeq: number): void {
    if (this.termPartner[e] === partnerSeq) return;
    const p = this.slotOfSeq(partnerSeq);
    this.termPartner[e] = partnerSeq;
    this.termRp[e] = this.meanAbs[p]!;
    if (this.dim[e] !== this.dim[p]) {
      // Different dimensions: s = mean(c)·conj(mean(p)); positive scales do not change its direction.
      const re = this.meanRe[e]! * this.meanRe[p]! + this.meanIm[e]! * this.meanIm[p]!;
      const im = this.meanIm[e]! * this.meanRe[p]! - this.meanRe[e]! * this.meanIm[p]!;
      this.setTerm(e, re, im, 0, true);
      return;
    }
    let re: number;
    let im: number;
    if (this.keepsVectors) {
      const b = innerB(this.unitVector(e, 0), this.unitVector(p, 1));
      re = b[0];
      im = b[1];
    } else {
      const k = this.seq[e]! - partnerSeq;
      const idx = e * this.pairDepth + k - 1;
      re = this.pairRe[idx]!;
      im = this.pairIm[idx]!;
      if (!(k >= 1 && k <= this.pairDepth) || Number.isNaN(re)) {
        throw new Error(`internal: no pair data for distance ${k} (depth ${this.pairDepth})`);
      }
    }
    this.setTerm(e, re, im, im, false);
  }

  /** keepsVectors: slot's interleaved unit vector, from the recent cache or rebuilt into scratch `which`. */
  private unitVector(slot: number, which: 0 | 1): Float64Array {
    const seq = this.seq[slot]!;
    if (this.recentUnitSeq[0] === seq) return this.recentUnit[0]!;
    if (this.recentUnitSeq[1] === seq) return this.recentUnit[1]!;
    const angles = this.vectors[slot]!;
    const n = angles.length;
    let out = which === 0 ? this.scratchA : this.scratchB;
    if (out === undefined || out.length !== 2 * n) {
      out = new Float64Array(2 * n);
      if (which === 0) this.scratchA = out;
      else this.scratchB = out;
    }
    for (let k = 0; k < n; k++) {
      out[2 * k] = Math.cos(angles[k]!);
      out[2 * k + 1] = Math.sin(angles[k]!);
    }
    return out;
  }

  private setTerm(e: number, re: number, im: number, m: number, cross: boolean): void {
    const abs = Math.hypot(re, im);
    this.termAbsB[e] = abs;
    this.termDirRe[e] = abs > 0 ? re / abs : 0;
    this.termDirIm[e] = abs > 0 ? im / abs : 0;
    this.termM[e] = m;
    this.termCross[e] = cross ? 1 : 0;
    this.wallBaseOk[e] = 0;
  }
}

/** B = (1/n)·Σ conj(p_k)·c_k over interleaved (re, im) unit vectors of equal length. */
function innerB(c: Float64Array, p: Float64Array): [number, number] {
  let re = 0;
  let im = 0;
  for (let k = 0; k < c.length; k += 2) {
    const cr = c[k]!;
    const ci = c[k + 1]!;
    const pr = p[k]!;
    const pi = p[k + 1]!;
    re += pr * cr + pi * ci;
    im += pr * ci - pi * cr;
  }
  const n = c.length / 2;
  return [re / n, im / n];
}
