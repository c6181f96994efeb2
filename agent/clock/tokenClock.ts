/**
 * The token clock: ticks at f Hz on an absolute schedule from the monotonic clock. Tick n is due
 * at t0 + n/f, so timer error never accumulates. The clock never waits on anything but its own
 * timer; a tick handler that overruns makes the following ticks late (counted) or, when a whole
 * period has passed, missed (counted and skipped: the engine's time advances by dt = 1/f per
 * processed tick, so a burst of catch-up ticks would only add load when the process is already
 * behind).
 */

/** Milliseconds from an arbitrary origin; monotonic (never jumps with the wall clock). */
export type MonotonicMs = () => number;

export const monotonicMs: MonotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export interface TickInfo {
  /** Index of this tick in the schedule (0, 1, 2, …; skips the indices of missed ticks). */
  readonly index: number;
  /** When the tick was due and when it ran, monotonic ms. */
  readonly dueMs: number;
  readonly ranMs: number;
  /** ranMs − dueMs (≥ 0 up to timer granularity). */
  readonly latenessMs: number;
}

export interface ClockStats {
  readonly hz: number;
  readonly running: boolean;
  /** Ticks that ran. */
  readonly ticks: number;
  /** Ticks that ran later than `lateToleranceMs` after their due time. */
  readonly late: number;
  /** Scheduled ticks that never ran because the next one was already due. */
  readonly missed: number;
  readonly maxLatenessMs: number;
}

export interface TokenClockOptions {
  /** Tick rate in Hz; default 20. */
  readonly hz?: number;
  /** A tick running more than this after its due time counts as late; default a quarter period. */
  readonly lateToleranceMs?: number;
  readonly now?: MonotonicMs;
}

export type TickHandler = (tick: TickInfo) => void;

export class TokenClock {
  readonly hz: number;
  readonly periodMs: number;
  private readonly lateToleranceMs: number;
  private readonly now: MonotonicMs;
  private handler: TickHandler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private next = 0;
  private ticks = 0;
  private late = 0;
  private missed = 0;
  private maxLatenessMs = 0;

  constructor(options: TokenClockOptions = {}) {
    const hz = options.hz ?? 20;
    if (!Number.isFinite(hz) || hz <= 0 || hz > 1000) {
      throw new RangeError(`clock rate must be in (0, 1000] Hz, got ${hz}`);
    }
    this.hz = hz;
    this.periodMs = 1000 / hz;
    this.lateToleranceMs = options.lateToleranceMs ?? this.periodMs / 4;
    this.now = options.now ?? monotonicMs;
  }

  /** Starts ticking; tick 0 is due one period from now. */
  start(handler: TickHandler): void {
    if (this.handler) throw new Error("token clock already started");
    this.handler = handler;
    this.t0 = this.now() + this.periodMs;
    this.next = 0;
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.handler = undefined;
  }

  stats(): ClockStats {
    return {
      hz: this.hz,
      running: this.handler !== undefined,
      ticks: this.ticks,
      late: this.late,
      missed: this.missed,
      maxLatenessMs: this.maxLatenessMs,
    };
  }

  private dueOf(index: number): number {
    return this.t0 + (index * 1000) / this.hz;
  }

  private arm(): void {
    const wait = this.dueOf(this.next) - this.now();
    // setTimeout counts whole ms from the loop's cached (ms-rounded) time, so it can wake a little
    // early; wake() re-checks against the monotonic clock and re-arms for the remainder instead of
    // spinning. Rounding the delay up makes that second wake-up rare (it costs CPU on a Pi).
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.ceil(wait)));
  }

  private wake(): void {
    const handler = this.handler;
    if (!handler) return;
    const now = this.now();
    let due = this.dueOf(this.next);
    if (now < due - 0.25) {
      this.arm();
      return;
    }
    // Skip every tick whose successor is already due: those are missed, not run late in a burst.
    const behind = Math.floor((now - due) / this.periodMs);
    if (behind > 0) {
      this.missed += behind;
      this.next += behind;
      due = this.dueOf(this.next);
    }
    const latenessMs = Math.max(0, now - due);
    if (latenessMs > this.lateToleranceMs) this.late++;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    this.ticks++;
    const index = this.next++;
    try {
      handler({ index, dueMs: due, ranMs: now, latenessMs });
    } finally {
      if (this.handler) this.arm();
    }
  }
}
