/**
 * Rolling statistics of T_tau as a transducer sees it (the reference's CoherenceCalculator): the
 * last `windowSize` values of T and |T|², their rolling mean and population standard deviation, and
 * the least-squares trend (slope per sample) of the last n.
 */
import type { Complex } from "./complex.js";

export class CoherenceCalculator {
  private readonly tValues: Complex[] = [];
  private readonly coherences: number[] = [];

  constructor(readonly windowSize = 100) {
    if (!Number.isInteger(windowSize) || windowSize < 1) throw new RangeError(`windowSize must be an integer ≥ 1, got ${windowSize}`);
  }

  update(T: Complex): number {
    const c = T.re * T.re + T.im * T.im;
    this.tValues.push(T);
    this.coherences.push(c);
    if (this.tValues.length > this.windowSize) {
      this.tValues.shift();
      this.coherences.shift();
    }
    return c;
  }

  /** The last coherence, or 0. */
  get coherence(): number {
    return this.coherences.length > 0 ? this.coherences[this.coherences.length - 1]! : 0;
  }

  get tTau(): Complex {
    return this.tValues.length > 0 ? this.tValues[this.tValues.length - 1]! : { re: 0, im: 0 };
  }

  get history(): readonly number[] {
    return this.coherences;
  }

  private last(n: number): number[] {
    return this.coherences.slice(-Math.max(1, Math.floor(n)));
  }

  /** Mean of the last n coherences (0 when empty). */
  rollingAverage(n = 10): number {
    const xs = this.last(n);
    return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
  }

  /** Population standard deviation of the last n coherences (0 when empty). */
  rollingStd(n = 10): number {
    const xs = this.last(n);
    if (xs.length === 0) return 0;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
  }

  /** Least-squares slope of the last n coherences against their index; 0 with fewer than n values. */
  trend(n = 10): number {
    if (this.coherences.length < n || n < 2) return 0;
    const ys = this.coherences.slice(-n);
    const xMean = (n - 1) / 2;
    const yMean = ys.reduce((a, b) => a + b, 0) / n;
    let num = 0;
    let den = 0;
    ys.forEach((y, x) => {
      num += (x - xMean) * (y - yMean);
      den += (x - xMean) ** 2;
    });
    return num / den;
  }

  reset(): void {
    this.tValues.length = 0;
    this.coherences.length = 0;
  }
}
