/**
 * Restart delays for a supervised process: 1 s, 2 s, 4 s … capped at 30 s; a process that stayed
 * up 60 s counts as healthy again, so its next failure waits 1 s. Pure.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

export const RESTART_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export class Backoff {
  private failures = 0;
  constructor(private readonly policy: BackoffPolicy = RESTART_BACKOFF) {}

  /** The delay before the next start, given how long the process that just ended had run. */
  next(upMs: number): number {
    if (upMs >= this.policy.resetAfterMs) this.failures = 0;
    const delay = Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return delay;
  }
}
