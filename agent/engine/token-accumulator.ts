/**
 * T_tau in token-clock mode, kept incrementally: per token O(L) term updates (L = the lag), O(1)
 * reads, instead of a pass over the whole history.
 *
 * Token mode: t_rel = i·dt for position i, dt = 1/f for every term. Writing position i = seq − seq_0
 * (sequence numbers), e^{iω·i·dt} = e^{iω·dt·(seq − base)} · e^{−iω·dt·(seq_0 − base)}: the first
 * factor is fixed per sample, the second common. So
 *
 *   T = drift(w) · e^{−iω·dt·(seq_0 − base)} · X / (M − 1),  X = Σ_{positions ≥ 1} C_e,
 *   C_e = sign_e · dir_e · noise_e · e^{iω·dt·(seq_e − base)}
 *
 * with drift(w) = 1 − 0.5·w·dt (renormalised above 1) common to all terms. X changes only when:
 * a sample is added (+C); the ring slides (the sample reaching position 0 leaves the sum, and the
 * samples at positions 1..L−1, which pair with the oldest, are re-paired: −C_old + C_new); or a
 * dampening step flips a term's coupling sign (found by scale-tracker.ts without visiting every
 * sample). Every
 * H slides the base is moved and X recomputed exactly, so rounding never accumulates.
 */
import type { SampleRing } from "./sample-ring.js";
import { ScaleTracker } from "./scale-tracker.js";

export class TokenAccumulator {
  private xRe = 0;
  private xIm = 0;
  private base = 0;
  private readonly cRe: Float64Array;
  private readonly cIm: Float64Array;
  private readonly sign: Int8Array;
  /** 1 while the slot's term is in X. */
  private readonly active: Uint8Array;
  private readonly scales: ScaleTracker;
  private readonly noiseRe: Float64Array;
  private readonly noiseIm: Float64Array;
  private readonly rotRe: Float64Array;
  private readonly rotIm: Float64Array;
  private readonly dt: number;
  private readonly omegaDt: number;

  constructor(
    private readonly ring: SampleRing,
    private readonly lag: number,
    omega: number,
    tokenFrequency: number,
    private readonly noiseStd: number,
  ) {
    const H = ring.capacity;
    this.cRe = new Float64Array(H);
    this.cIm = new Float64Array(H);
    this.sign = new Int8Array(H);
    this.active = new Uint8Array(H);
    this.scales = new ScaleTracker(
      ring,
      (e) => this.recheck(e),
      (e) => this.active[e] === 1,
    );
    this.noiseRe = new Float64Array(H);
    this.noiseIm = new Float64Array(H);
    this.rotRe = new Float64Array(H);
    this.rotIm = new Float64Array(H);
    this.dt = 1.0 / tokenFrequency;
    this.omegaDt = omega;
  }

  /** After the ring was cleared and re-seeded (construction, reset). */
  restart(): void {
    this.xRe = 0;
    this.xIm = 0;
    this.active.fill(0);
    this.scales.restart();
    this.base = this.ring.seq[this.ring.head]!;
    const s = this.ring.head;
    this.cRe[s] = 0;
    this.cIm[s] = 0;
    this.setRotation(s);
  }

  /** Call just before ring.append: when the ring is full, position 1 is about to become position 0. */
  beforeAppend(): boolean {
    const ring = this.ring;
    if (ring.count < ring.capacity) return false;
    if (ring.count >= 2) this.remove(ring.slotAt(1));
    return true;
  }

  /** Call just after ring.append with the new sample's slot and whether the ring slid. */
  afterAppend(slot: number, slid: boolean): void {
    const ring = this.ring;
    this.active[slot] = 0;
    this.scales.added(slot);
    const sq = Math.sqrt(this.dt);
    let nRe = 1 + this.noiseStd * ring.noiseRe[slot]! * sq;
    let nIm = this.noiseStd * ring.noiseIm[slot]! * sq;
    const n2 = nRe * nRe + nIm * nIm;
    if (n2 > 1) {
      const n = Math.sqrt(n2);
      nRe /= n;
      nIm /= n;
    }
    this.noiseRe[slot] = nRe;
    this.noiseIm[slot] = nIm;
    this.setRotation(slot);
    const seq0 = ring.seq[ring.head]!;
    const M = ring.count;
    if (slid) {
      // The oldest changed: positions 1..L−1 (the new sample excluded) pair with it now.
      const last = Math.min(this.lag - 1, M - 2);
      for (let i = 1; i <= last; i++) {
        const e = ring.slotAt(i);
        this.remove(e);
        ring.ensureTerm(e, seq0);
        this.add(e);
      }
    }
    const i = M - 1;
    if (i >= 1) {
      ring.ensureTerm(slot, i >= this.lag ? ring.seq[slot]! - this.lag : seq0);
      this.add(slot);
    }
    if (slid && seq0 - this.base >= ring.capacity) this.rebase();
  }

  /** One dampening step: the scale tracker re-checks exactly the terms whose sign can have flipped. */
  dampen(d: number): void {
    this.scales.step(d);
  }

  /** Re-derives slot e's coupling sign from its current scale; updates X only if it changed. */
  private recheck(e: number): void {
    if (this.active[e] !== 1) return;
    if (this.signFor(e) !== this.sign[e]) {
      this.remove(e);
      this.add(e);
    }
  }

  private signFor(e: number): number {
    const ring = this.ring;
    const absB = ring.termAbsB[e]!;
    if (!(absB > 0)) return 0;
    if (ring.termCross[e] === 1) return 1;
    const v = this.scales.scaleOf(e) * absB + ring.termRp[e]! * ring.termM[e]!;
    return v > 0 ? 1 : v < 0 ? -1 : 0;
  }

  /** T for the current state, given the recovery variable w. */
  tTau(recovery: number): { re: number; im: number } {
    const ring = this.ring;
    const M = ring.count;
    if (M < 2) return { re: 1, im: 0 };
    let drift = 1 + -0.5 * recovery * this.dt;
    if (drift > 1 || drift < -1) drift = drift > 0 ? 1 : -1;
    const s0 = ring.head;
    // conj of the oldest's rotation brings positions back to t_rel = i·dt.
    const r0Re = this.rotRe[s0]!;
    const r0Im = this.rotIm[s0]!;
    const re = this.xRe * r0Re + this.xIm * r0Im;
    const im = this.xIm * r0Re - this.xRe * r0Im;
    const k = drift / (M - 1);
    return { re: re * k, im: im * k };
  }

  private setRotation(slot: number): void {
    const phase = this.omegaDt * ((this.ring.seq[slot]! - this.base) * this.dt);
    this.rotRe[slot] = Math.cos(phase);
    this.rotIm[slot] = Math.sin(phase);
  }

  private remove(e: number): void {
    if (this.active[e] === 1) this.scales.unregisterTerm(e);
    this.active[e] = 0;
    this.xRe -= this.cRe[e]!;
    this.xIm -= this.cIm[e]!;
    this.cRe[e] = 0;
    this.cIm[e] = 0;
    this.sign[e] = 0;
  }

  private add(e: number): void {
    const ring = this.ring;
    const sg = this.signFor(e);
    this.sign[e] = sg;
    this.active[e] = 1;
    this.scales.registerTerm(e);
    if (sg === 0) {
      this.cRe[e] = 0;
      this.cIm[e] = 0;
      return;
    }
    const dRe = sg * ring.termDirRe[e]!;
    const dIm = sg * ring.termDirIm[e]!;
    const sRe = dRe * this.noiseRe[e]! - dIm * this.noiseIm[e]!;
    const sIm = dRe * this.noiseIm[e]! + dIm * this.noiseRe[e]!;
    const cRe = sRe * this.rotRe[e]! - sIm * this.rotIm[e]!;
    const cIm = sRe * this.rotIm[e]! + sIm * this.rotRe[e]!;
    this.cRe[e] = cRe;
    this.cIm[e] = cIm;
    this.xRe += cRe;
    this.xIm += cIm;
  }

  /** Moves the rotation base to the oldest sample and recomputes X exactly. */
  private rebase(): void {
    const ring = this.ring;
    this.base = ring.seq[ring.head]!;
    for (let i = 1; i < ring.count; i++) this.remove(ring.slotAt(i));
    this.xRe = 0;
    this.xIm = 0;
    for (let i = 0; i < ring.count; i++) {
      const e = ring.slotAt(i);
      this.setRotation(e);
      if (i === 0) continue;
      this.add(e);
    }
  }
}
