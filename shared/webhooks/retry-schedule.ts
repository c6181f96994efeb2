/**
 * When to try a message again (Standard Webhooks' recommended schedule): the first attempt at once,
 * then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; after the eighth failed attempt the
 * message has failed. Each delay gets ±10 % jitter so a fleet of messages failing together does not
 * retry in lockstep. Pure: the random source is injected (seeded in tests).
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** Fraction of each delay that jitter may add or remove. */
export const JITTER_FRACTION = 0.1;

/** A random number in [0, 1). */
export type RandomSource = () => number;

/**
 * The delay before attempt number `attemptsMade` (0-based count of attempts already made in this
 * round), or null when the schedule is exhausted (the message has failed).
 */
export function retryDelayMs(attemptsMade: number, random: RandomSource, schedule: readonly number[] = RETRY_SCHEDULE_MS): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) throw new RangeError("attemptsMade: a non-negative integer");
  const base = schedule[attemptsMade];
  if (base === undefined) return null;
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
  return Math.max(0, Math.round(base * (1 + JITTER_FRACTION * (2 * unit - 1))));
}

/**
 * A small seeded generator (mulberry32) for tests and reproducible simulations; production passes
 * `Math.random` (jitter needs spread, not secrecy).
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
