/**
 * A group of tokens that arrived together (one POST /input). The pipeline never applies a reset
 * between two tokens of one batch, and reports the batch's outcome when its last token has run.
 */
export interface BatchTicket {
  readonly size: number;
  /** Called by the pipeline after each of the batch's tokens. */
  onToken(outcome: { readonly tick: number; readonly epoch: number; readonly coherence: number; readonly collapsed: boolean; readonly dissipated: boolean }): void;
}

/** One unit of input for the tick pipeline: a text token or an explicit phase vector. */
export type QueuedToken =
  | { readonly type: "text"; readonly text: string; readonly source: string; readonly batch?: BatchTicket }
  | { readonly type: "phase"; readonly phases: readonly number[]; readonly source: string; readonly batch?: BatchTicket };

export interface TokenQueueStats {
  readonly depth: number;
  readonly capacity: number;
  readonly accepted: number;
  /** Tokens refused because the queue was full (HTTP 429s, etc.). */
  readonly refused: number;
}

/**
 * Bounded FIFO between the token sources and the clock, which takes at most one token per tick.
 * Sources never grow memory without bound: `offer` is all-or-nothing and says how long to wait;
 * stream sources pause until `whenSpace` resolves (below the low-water mark, so a paused stream
 * resumes with room for a burst rather than flapping at the limit).
 */
export class TokenQueue {
  readonly capacity: number;
  private readonly lowWater: number;
  private items: QueuedToken[] = [];
  private head = 0;
  private accepted = 0;
  private refused = 0;
  private waiters: (() => void)[] = [];

  constructor(capacity = 1024, lowWaterFraction = 0.5) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.lowWater = Math.floor(capacity * lowWaterFraction);
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  get free(): number {
    return this.capacity - this.depth;
  }

  /** Enqueues all of `tokens` or none; false when they do not fit. */
  offer(tokens: readonly QueuedToken[]): boolean {
    if (tokens.length > this.free) {
      this.refused += tokens.length;
      return false;
    }
    for (const t of tokens) this.items.push(t);
    this.accepted += tokens.length;
    return true;
  }

  /** Takes the oldest token, if any. */
  take(): QueuedToken | undefined {
    if (this.head >= this.items.length) return undefined;
    const token = this.items[this.head++]!;
    // Compact now and then so the array does not keep taken tokens alive.
    if (this.head > 256 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.waiters.length > 0 && this.depth <= this.lowWater) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
    return token;
  }

  /** Resolves when the queue is at or below its low-water mark (immediately if it already is). */
  whenSpace(): Promise<void> {
    if (this.depth <= this.lowWater) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops every queued token (reset). Returns how many were dropped. */
  clear(): number {
    const dropped = this.depth;
    this.items = [];
    this.head = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return dropped;
  }

  /** Seconds until `n` more tokens would fit, draining one per tick at `hz`. */
  secondsUntilRoomFor(n: number, hz: number): number {
    const over = n - this.free;
    return over <= 0 ? 0 : Math.ceil(over / hz);
  }

  stats(): TokenQueueStats {
    return { depth: this.depth, capacity: this.capacity, accepted: this.accepted, refused: this.refused };
  }
}
