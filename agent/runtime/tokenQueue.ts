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
  /** Estimated memory held by the queued tokens, and its limit. */
  readonly bytes: number;
  readonly maxBytes: number;
  readonly accepted: number;
  /** Tokens refused because the queue was full (HTTP 429s, etc.). */
  readonly refused: number;
}

/** Default for TokenQueue's maxBytes: 1024 text tokens use well under 1 MiB; phase vectors (8 KiB each at 1024 angles) hit this first. */
export const TOKEN_QUEUE_MAX_BYTES = 2 * 1024 * 1024;

/** Estimated memory of one queued token: the text (UTF-16) or the phase vector (doubles), plus the object. */
export function tokenBytes(token: QueuedToken): number {
  return 64 + (token.type === "text" ? 2 * token.text.length : 8 * token.phases.length);
}

/**
 * Bounded FIFO between the token sources and the clock, which takes at most one token per tick.
 * Sources never grow memory without bound: it holds at most `capacity` tokens and `maxBytes` of
 * them (a 1,024-angle phase vector weighs ≈ 100 short text tokens); `offer` is all-or-nothing and
 * says how long to wait; stream sources pause until `whenSpace` resolves (below the low-water
 * mark, so a paused stream resumes with room for a burst rather than flapping at the limit).
 */
export class TokenQueue {
  readonly capacity: number;
  private readonly lowWater: number;
  readonly maxBytes: number;
  private items: QueuedToken[] = [];
  private head = 0;
  private bytes = 0;
  private accepted = 0;
  private refused = 0;
  private waiters: (() => void)[] = [];

  constructor(capacity = 1024, lowWaterFraction = 0.5, maxBytes = TOKEN_QUEUE_MAX_BYTES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`queue maxBytes must be a positive integer, got ${maxBytes}`);
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.lowWater = Math.floor(capacity * lowWaterFraction);
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  get free(): number {
    return this.capacity - this.depth;
  }

  /** True when all of `tokens` fit now (count and bytes). */
  fits(tokens: readonly QueuedToken[]): boolean {
    if (tokens.length > this.free) return false;
    let bytes = this.bytes;
    for (const t of tokens) bytes += tokenBytes(t);
    // An empty queue takes any one batch the count allows, so no single input is refused forever.
    return bytes <= this.maxBytes || this.depth === 0;
  }

  /** Enqueues all of `tokens` or none; false when they do not fit. */
  offer(tokens: readonly QueuedToken[]): boolean {
    if (!this.fits(tokens)) {
      this.refused += tokens.length;
      return false;
    }
    for (const t of tokens) {
      this.items.push(t);
      this.bytes += tokenBytes(t);
    }
    this.accepted += tokens.length;
    return true;
  }

  /** The token `offset` places behind the head (0: the next one taken), without taking it. */
  peek(offset = 0): QueuedToken | undefined {
    return offset >= 0 ? this.items[this.head + offset] : undefined;
  }

  /** Takes the oldest token, if any. */
  take(): QueuedToken | undefined {
    if (this.head >= this.items.length) return undefined;
    const token = this.items[this.head++]!;
    this.bytes -= tokenBytes(token);
    // Compact now and then so the array does not keep taken tokens alive.
    if (this.head > 256 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.waiters.length > 0 && this.belowLowWater()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
    return token;
  }

  /** Resolves when the queue is at or below its low-water mark (immediately if it already is). */
  whenSpace(): Promise<void> {
    if (this.belowLowWater()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops every queued token (reset). Returns how many were dropped. */
  clear(): number {
    const dropped = this.depth;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return dropped;
  }

  /**
   * Seconds until `tokens` would fit, draining one per tick at `hz`: by count, or by bytes assuming
   * the queued tokens weigh their average.
   */
  secondsUntilRoomFor(tokens: readonly QueuedToken[], hz: number): number {
    const overCount = tokens.length - this.free;
    let want = 0;
    for (const t of tokens) want += tokenBytes(t);
    const overBytes = this.bytes + want - this.maxBytes;
    const perToken = this.depth > 0 ? this.bytes / this.depth : 1;
    const byBytes = overBytes <= 0 ? 0 : Math.min(this.depth, Math.ceil(overBytes / perToken));
    const over = Math.max(overCount, byBytes);
    return over <= 0 ? 0 : Math.ceil(over / hz);
  }

  stats(): TokenQueueStats {
    return { depth: this.depth, capacity: this.capacity, bytes: this.bytes, maxBytes: this.maxBytes, accepted: this.accepted, refused: this.refused };
  }

  private belowLowWater(): boolean {
    return this.depth <= this.lowWater && this.bytes <= this.maxBytes / 2;
  }
}
