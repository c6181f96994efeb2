/**
 * A deliberately naive, line-by-line port of ENGINE.md §3–§6 (σ = 0): full complex vectors,
 * T_tau recomputed from scratch, dampening applied to every stored vector. Slow and obviously
 * correct; the tests hold the fast engine to it on scenarios the golden file does not cover.
 */
import { hashAngles } from "../../agent/engine/index.js";

type Vec = { re: Float64Array; im: Float64Array };

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

export interface NaiveConfig {
  tauScale: number;
  omega: number;
  coherenceThreshold: number;
  historySize: number;
  clockMode: "token_clock" | "wall_clock";
  tokenFrequency: number;
}

export class NaiveEngine {
  phases: Vec[] = [];
  ts: number[] = [];
  collapsed = false;
  w = 0;
  count = 0;
  lamport = 0;
  /** How many inner products had a negative coupling sum (a flipped term). */
  flips = 0;

  constructor(
    readonly c: NaiveConfig,
    start: number,
    readonly encode: (t: string) => Float64Array = hashAngles,
  ) {
    this.phases.push({ re: new Float64Array([1]), im: new Float64Array([0]) });
    this.ts.push(start);
  }

  private inner(cur: Vec, prev: Vec, dt: number): { re: number; im: number } {
    let sRe: number;
    let sIm: number;
    const mean = (v: Vec) => {
      let r = 0;
      let i = 0;
      for (let k = 0; k < v.re.length; k++) {
        r += v.re[k]!;
        i += v.im[k]!;
      }
      return { re: r / v.re.length, im: i / v.re.length };
    };
    if (cur.re.length !== prev.re.length) {
      const a = mean(cur);
      const b = mean(prev);
      sRe = a.re * b.re + a.im * b.im;
      sIm = a.im * b.re - a.re * b.im;
    } else {
      const n = cur.re.length;
      let bRe = 0;
      let bIm = 0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        bRe += prev.re[k]! * cur.re[k]! + prev.im[k]! * cur.im[k]!;
        bIm += prev.re[k]! * cur.im[k]! - prev.im[k]! * cur.re[k]!;
        m += Math.sin(Math.atan2(cur.im[k]!, cur.re[k]!) - Math.atan2(prev.im[k]!, prev.re[k]!));
      }
      bRe /= n;
      bIm /= n;
      m /= n;
      const pm = mean(prev);
      const r = Math.hypot(pm.re, pm.im);
      const absB = Math.hypot(bRe, bIm);
      if (absB > 0) {
        const k = (absB + r * m) / absB;
        if (k < 0) this.flips++;
        sRe = bRe * k;
        sIm = bIm * k;
      } else {
        sRe = bRe;
        sIm = bIm;
      }
    }
    const mag = Math.hypot(sRe, sIm);
    if (!(mag > 0)) return { re: 0, im: 0 };
    sRe /= mag;
    sIm /= mag;
    const f = -0.5 * this.w * dt;
    sRe = sRe + sRe * f;
    sIm = sIm + sIm * f;
    const m2 = Math.hypot(sRe, sIm);
    if (m2 > 1) {
      sRe /= m2;
      sIm /= m2;
    }
    return { re: sRe, im: sIm };
  }

  tTau(mode = this.c.clockMode): { re: number; im: number } {
    const M = this.phases.length;
    if (M < 2) return { re: 1, im: 0 };
    let Sre = 0;
    let Sim = 0;
    let D = 0;
    const lag = Math.max(1, roundHalfEven(this.c.tauScale * this.c.tokenFrequency));
    for (let i = 1; i < M; i++) {
      let dt: number;
      let tRel: number;
      let j: number;
      if (mode === "token_clock") {
        dt = 1 / this.c.tokenFrequency;
        tRel = i * dt;
        j = Math.max(0, i - lag);
      } else {
        dt = this.ts[i]! - this.ts[i - 1]!;
        if (dt <= 0) continue;
        tRel = this.ts[i]! - this.ts[0]!;
        j = i - 1;
        while (j > 0 && this.ts[j]! > this.ts[i]! - this.c.tauScale) j--;
      }
      const s = this.inner(this.phases[i]!, this.phases[j]!, dt);
      const eRe = Math.cos(this.c.omega * tRel);
      const eIm = Math.sin(this.c.omega * tRel);
      Sre += (s.re * eRe - s.im * eIm) * dt;
      Sim += (s.re * eIm + s.im * eRe) * dt;
      D += dt;
    }
    return D > 0 ? { re: Sre / D, im: Sim / D } : { re: Sre, im: Sim };
  }

  temporalize(text: string, timestamp?: number, mode = this.c.clockMode): { coherence: number; tTau: { re: number; im: number } } {
    const angles = this.encode(text);
    const v: Vec = { re: angles.map(Math.cos), im: angles.map(Math.sin) };
    const t = timestamp ?? Math.round((this.ts[this.ts.length - 1]! + 1 / this.c.tokenFrequency) * 1e6) / 1e6;
    this.phases.push(v);
    this.ts.push(t);
    if (this.phases.length > this.c.historySize) {
      this.phases.shift();
      this.ts.shift();
    }
    const T = this.tTau(mode);
    const c = T.re * T.re + T.im * T.im;
    if (c >= this.c.coherenceThreshold && !this.collapsed) this.collapsed = true;
    if (this.collapsed) {
      const cc = Math.min(1, Math.max(0, c));
      this.w = this.w + 0.1 * (cc - 0.5 * this.w);
      const d = Math.max(0.8, 0.999 - 0.05 * cc - 0.05 * this.w);
      for (const p of this.phases) {
        let sq = 0;
        for (let k = 0; k < p.re.length; k++) {
          p.re[k]! *= d;
          p.im[k]! *= d;
          sq += p.re[k]! ** 2 + p.im[k]! ** 2;
        }
        const n = Math.sqrt(sq);
        if (n > 0 && n < 1) {
          const k2 = (0.1 * (1 - n)) / n;
          for (let k = 0; k < p.re.length; k++) {
            p.re[k] = p.re[k]! + p.re[k]! * k2;
            p.im[k] = p.im[k]! + p.im[k]! * k2;
          }
        }
      }
    }
    this.count++;
    this.lamport++;
    return { coherence: c, tTau: T };
  }
}
