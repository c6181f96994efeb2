/**
 * Reconnect delays: capped exponential backoff with jitter. Attempt n (0-based) waits a random time
 * in [d/2, d] with d = min(cap, base · 2^n) ("equal jitter"): never zero (no hot loop against a down
 * edge), never above the cap, and a fleet that lost its edge at the same instant spreads out.
 */
export interface BackoffPolicy {
  /** Delay ceiling of the first retry, ms. */
  readonly baseMs: number;
  /** Largest delay, ms. */
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 10_000 };

/** The delay before reconnect attempt `attempt` (0 = the first retry); `random` is in [0, 1). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  if (!(policy.baseMs > 0) || !(policy.capMs >= policy.baseMs)) {
    throw new RangeError(`need 0 < baseMs (${policy.baseMs}) <= capMs (${policy.capMs})`);
  }
  // 2^attempt overflows to Infinity for huge attempts; min() keeps it at the cap.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 64));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
