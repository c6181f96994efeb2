import { CompactRange } from "../../shared/log/compact-range.js";
import { HASH_SIZE } from "../../shared/log/rfc6962.js";

/** Durable leaf hashes kept in memory by default: 4096 × 32 B = 128 KiB (the log auditor's queue length). */
export const RECENT_LEAF_HASHES = 4096;

/**
 * The agent log's Merkle state in bounded memory. The ledger never serves historical roots or
 * proofs (the edge does, for the global log); it needs the root at the durable size (or a little
 * past it, over records still pending) and the leaf hashes of records the edge has just
 * acknowledged. So instead of every node of the tree — 64 bytes per record, forever — it keeps:
 * - the compact range of the durable records: one hash per set bit of their count;
 * - the leaf hashes of records sealed but not yet durable (bounded by the ledger's disk budget);
 * - a ring of the newest durable leaf hashes.
 * Memory stays O(log n + ring), however long the agent runs.
 */
export class LedgerTree {
  readonly #durable: CompactRange;
  readonly #pending: Uint8Array[] = [];
  readonly #recent: Uint8Array;
  readonly #recentCapacity: number;
  #rootCache: { size: number; root: Uint8Array } | undefined;

  /** @param durable the compact range of the records already durable (e.g. rebuilt on open) */
  constructor(durable: CompactRange, recentCapacity: number = RECENT_LEAF_HASHES) {
    if (!Number.isSafeInteger(recentCapacity) || recentCapacity < 1) throw new RangeError(`recentCapacity must be a positive integer, got ${recentCapacity}`);
    this.#durable = durable.clone();
    this.#recentCapacity = recentCapacity;
    this.#recent = new Uint8Array(recentCapacity * HASH_SIZE);
  }

  /** Durable records: the size of the compact range. */
  get durableSize(): number {
    return this.#durable.size;
  }

  /** Durable plus pending records. */
  get size(): number {
    return this.#durable.size + this.#pending.length;
  }

  /** A record was sealed: its leaf hash waits until the record is durable. */
  seal(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) throw new RangeError(`leaf hash is ${leafHash.length} bytes, want ${HASH_SIZE}`);
    this.#pending.push(leafHash);
  }

  /** The oldest `count` pending records became durable, in order. */
  commit(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.#pending.length) {
      throw new RangeError(`cannot commit ${count} of ${this.#pending.length} pending leaves`);
    }
    for (const hash of this.#pending.splice(0, count)) {
      this.#recent.set(hash, (this.#durable.size % this.#recentCapacity) * HASH_SIZE);
      this.#durable.append(hash);
    }
  }

  /**
   * Root over the first `size` records, for durableSize ≤ size ≤ this.size. Earlier roots are not
   * kept (verifyLedger recomputes any of them from the segments).
   */
  root(size: number = this.durableSize): Uint8Array {
    if (!Number.isSafeInteger(size) || size < this.durableSize || size > this.size) {
      throw new RangeError(`root is available for sizes ${this.durableSize}…${this.size}, not ${size}`);
    }
    if (size === this.durableSize) {
      if (this.#rootCache?.size !== size) this.#rootCache = { size, root: this.#durable.root() };
      return this.#rootCache.root.slice();
    }
    const range = this.#durable.clone();
    for (let i = 0; i < size - this.durableSize; i++) range.append(this.#pending[i]!);
    return range.root();
  }

  /** Leaf hash of record `seq` if it is pending or among the newest durable ones; else undefined. */
  leafHash(seq: number): Uint8Array | undefined {
    const durable = this.durableSize;
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.size) return undefined;
    if (seq >= durable) return this.#pending[seq - durable]!.slice();
    if (seq < durable - this.#recentCapacity) return undefined;
    const at = (seq % this.#recentCapacity) * HASH_SIZE;
    return this.#recent.slice(at, at + HASH_SIZE);
  }

  /** A copy of the durable compact range (a segment's starting point, the pruned prefix). */
  durableRange(): CompactRange {
    return this.#durable.clone();
  }
}
