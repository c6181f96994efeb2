/**
 * The dampening step while collapsed (ENGINE.md §6). Every stored vector v = a·u is scaled by
 * d ∈ [0.8, 0.999], then, if 0 < ‖v‖ < 1, pushed back toward unit norm: v + (v/‖v‖)·0.1·(1 − ‖v‖).
 * Both are positive scalings of v, so only the per-sample scale a changes: O(1) per sample, no
 * vector work.
 */
import type { SampleRing } from "./sample-ring.js";

/** w' = w + 0.1·(c − 0.5·w) with c = clamp(|T|², 0, 1). */
export function nextRecovery(recovery: number, coherenceClipped: number): number {
  return recovery + 0.1 * (coherenceClipped - 0.5 * recovery);
}

/** d = max(0.8, 0.999 − 0.05·c − 0.05·w). */
export function decayFactor(coherenceClipped: number, recovery: number): number {
  return Math.max(0.8, 0.999 - 0.05 * coherenceClipped - 0.05 * recovery);
}

export function dampenScales(ring: SampleRing, d: number): void {
  const scale = ring.scale;
  const unitNorm = ring.unitNorm;
  const n = ring.count;
  const cap = ring.capacity;
  let s = ring.head;
  for (let i = 0; i < n; i++) {
    const a = scale[s]! * d;
    const nu = unitNorm[s]!;
    const norm = a * nu;
    scale[s] = norm > 0 && norm < 1 ? a + (0.1 * (1 - norm)) / nu : a;
    s = s + 1 === cap ? 0 : s + 1;
  }
}
