/** The last `capacity` samples (e.g. tick lateness), for quantiles in /metrics. Fixed memory. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity = 4096) {
    this.samples = new Float64Array(capacity);
  }

  add(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  /** Nearest-rank quantile of the window (q in [0, 1]); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const sorted = Array.from(this.samples.subarray(0, this.count)).sort((a, b) => a - b);
    const rank = Math.min(this.count - 1, Math.max(0, Math.ceil(q * this.count) - 1));
    return sorted[rank]!;
  }

  get size(): number {
    return this.count;
  }
}
