/** Percentiles and counting over plain number arrays. Pure. */

export interface Spread {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Nearest-rank percentile of sorted values (q in 0–100); null when empty. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length === 0 ? null : sorted[sorted.length - 1]! };
}

/** Values of [time, value] pairs (flattened) whose time is in [from, to). */
export function pairValuesIn(pairs: readonly number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i]! >= from && pairs[i]! < to) out.push(pairs[i + 1]!);
  return out;
}

export function countIn(times: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t < to) n++;
  return n;
}

export function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Adds one to counts[key]. */
export function tally(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
