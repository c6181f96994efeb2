/**
 * A compact range over leaves [0, size): the hashes of the perfect subtrees its size decomposes
 * into (one per set bit of size, largest first). It is all an append needs, and all a verifier
 * needs to fold a root from a stream of leaves: O(log n) memory, O(1) amortized hashing per leaf.
 */
import { EMPTY_ROOT, HASH_SIZE, hashChildren } from "./rfc6962.js";
import { LogError } from "./errors.js";
import { half, isOdd, perfectRanges, requireCount } from "./tree-math.js";

/** Called for each perfect subtree an append completes: the leaf itself (level 0), then its parents. */
export type NodeVisitor = (level: number, index: number, hash: Uint8Array) => void;

export class CompactRange {
  #size: number;
  // Perfect subtree hashes, largest (leftmost) first.
  readonly #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The empty range. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * A range of the given size from its perfect subtree hashes, largest first (see `perfectRanges(0, size)`).
   * @throws LogError INVALID_NUMBER, HASH_LENGTH, STORE_CONFLICT (wrong number of hashes)
   */
  static fromHashes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    requireCount("size", size);
    const want = perfectRanges(0, size).length;
    if (hashes.length !== want) {
      throw new LogError("STORE_CONFLICT", `a range of size ${size} needs ${want} hashes, got ${hashes.length}`, {
        size,
        got: hashes.length,
        want,
      });
    }
    for (const h of hashes) {
      if (h.length !== HASH_SIZE) {
        throw new LogError("HASH_LENGTH", `subtree hash is ${h.length} bytes, want ${HASH_SIZE}`, { got: h.length, want: HASH_SIZE });
      }
    }
    return new CompactRange(size, hashes.slice());
  }

  get size(): number {
    return this.#size;
  }

  /** The perfect subtree hashes, largest first (copies of the array, not of the hashes). */
  hashes(): Uint8Array[] {
    return this.#hashes.slice();
  }

  /** A copy that can be appended to independently. */
  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes.slice());
  }

  /** Appends one leaf hash, reporting every perfect subtree it completes to `visit`. */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    let hash = leafHash;
    let index = this.#size;
    let level = 0;
    visit?.(0, index, hash);
    // A right child completes its parent: merge with the left sibling at the end of the range.
    while (isOdd(index)) {
      hash = hashChildren(this.#hashes.pop()!, hash);
      index = half(index);
      level++;
      visit?.(level, index, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  /** The RFC 6962 root of leaves [0, size): the perfect subtrees folded right to left. */
  root(): Uint8Array {
    const hs = this.#hashes;
    if (hs.length === 0) return EMPTY_ROOT.slice();
    if (hs.length === 1) return hs[0]!.slice();
    let acc = hs[hs.length - 1]!;
    for (let i = hs.length - 2; i >= 0; i--) acc = hashChildren(hs[i]!, acc);
    return acc;
  }
}
