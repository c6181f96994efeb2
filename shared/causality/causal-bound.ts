/** The reference mesh's constants (ENGINE.md §9, REFERENCE.md §11.3). */
export const CAUSAL_RULES = {
  /** Lower bound of the dynamic jump bound, ticks. */
  jumpFloor: 32,
  /** Upper bound (`max_lamport_jump`), ticks. */
  maxJump: 128,
  /** The bound is this many expected ticks. */
  expectedFactor: 16,
  /** Expected ticks never below this. */
  minExpected: 0.1,
  /** Latency assumed when none is measured, ms. */
  defaultLatencyMs: 100,
} as const;

export interface CausalBound {
  /** Ticks a peer is expected to make during one network latency: max(hz·latency/1000, 0.1). */
  readonly expected: number;
  /** Largest tolerated jump: min(max(16·expected, 32), 128). */
  readonly bound: number;
}

/** The reference's dynamic causal bound, always within [32, 128] ticks. */
export function dynamicCausalBound(tokenHz: number, latencyMs: number, maxJump: number = CAUSAL_RULES.maxJump): CausalBound {
  const hz = Number.isFinite(tokenHz) && tokenHz > 0 ? tokenHz : 1;
  const latency = Number.isFinite(latencyMs) && latencyMs >= 0 ? latencyMs : CAUSAL_RULES.defaultLatencyMs;
  const expected = Math.max((hz * latency) / 1000, CAUSAL_RULES.minExpected);
  const bound = Math.min(Math.max(CAUSAL_RULES.expectedFactor * expected, CAUSAL_RULES.jumpFloor), maxJump);
  return { expected, bound };
}
