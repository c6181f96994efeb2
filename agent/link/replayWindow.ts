/**
 * Which records to send next. The edge holds seqs below `ackedNext` (its resume point, then each
 * ack's nextSeq); this session has sent seqs below `sentNext`. Records go out in order, in batches
 * of at most `batchMax`, with at most `maxInFlight` sent but unacknowledged, so a long backlog after
 * a partition is replayed at the pace the edge acknowledges it instead of flooding the socket.
 */
export interface ReplayBatch {
  readonly from: number;
  readonly count: number;
}

export class ReplayWindow {
  #ackedNext = 0;
  #sentNext = 0;

  constructor(
    readonly batchMax: number,
    readonly maxInFlight: number,
  ) {
    if (!Number.isInteger(batchMax) || batchMax < 1) throw new RangeError(`batchMax must be ≥ 1, got ${batchMax}`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < batchMax) throw new RangeError(`maxInFlight (${maxInFlight}) must be ≥ batchMax (${batchMax})`);
  }

  /** Records 0 … ackedNext − 1 are held by the edge. */
  get ackedNext(): number {
    return this.#ackedNext;
  }
  /** Records 0 … sentNext − 1 were sent (or are held by the edge). */
  get sentNext(): number {
    return this.#sentNext;
  }
  get inFlight(): number {
    return this.#sentNext - this.#ackedNext;
  }

  /** A new session: the edge's resume point from `welcome`. Everything after it is sent again. */
  reset(nextSeq: number): void {
    requireSeq("nextSeq", nextSeq);
    this.#ackedNext = nextSeq;
    this.#sentNext = nextSeq;
  }

  /** The next batch to send given how many records are durable, or undefined (nothing new, or the window is full). */
  next(durableCount: number): ReplayBatch | undefined {
    const room = this.maxInFlight - this.inFlight;
    const count = Math.min(this.batchMax, durableCount - this.#sentNext, room);
    return count > 0 ? { from: this.#sentNext, count } : undefined;
  }

  /** Records from..from+count−1 went out. Must continue where the last batch ended. */
  markSent(from: number, count: number): void {
    if (from !== this.#sentNext) throw new RangeError(`batch starts at ${from}, expected ${this.#sentNext}`);
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    this.#sentNext += count;
  }

  /** An ack: the edge holds seqs below `nextSeq`. Returns true when that moved the window. Never goes back. */
  onAck(nextSeq: number): boolean {
    requireSeq("nextSeq", nextSeq);
    if (nextSeq <= this.#ackedNext) return false;
    this.#ackedNext = nextSeq;
    if (this.#sentNext < nextSeq) this.#sentNext = nextSeq;
    return true;
  }

  /**
   * The edge refused a batch with `seq_gap` and named its own next seq: resume from there, exactly as
   * after a welcome (the edge's word on what it holds wins, in both directions).
   */
  rewind(expected: number): void {
    this.reset(expected);
  }
}

function requireSeq(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}
