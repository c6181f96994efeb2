/**
 * Where a tree keeps its hashes. Synchronous on purpose: the edge's Durable Object SQLite API
 * (`ctx.storage.sql.exec`) is synchronous and the agent reads its files synchronously, so the whole
 * log API stays synchronous and one append is one atomic step.
 *
 * A store holds the hash of every perfect subtree (level, index) completed so far — the leaf hashes
 * (level 0) and every full parent above them — plus the number of leaves. Those never change once
 * written, so the root at any earlier size and any proof can be computed from O(log n) of them.
 */
import { CompactRange } from "./compact-range.js";
import { LogError } from "./errors.js";
import { HASH_SIZE } from "./rfc6962.js";

/** A perfect subtree hash to store. */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/** Everything one append (or a batch of appends) writes. A store must apply it all or nothing. */
export interface AppendBatch {
  /** Tree size before the batch: the store must still be at this size (single-writer check). */
  readonly fromSize: number;
  /** Tree size after the batch: fromSize + leaves.length. */
  readonly toSize: number;
  /** The appended leaf data in order (leaf fromSize first), for stores that keep entries too. */
  readonly leaves: readonly Uint8Array[];
  /** New perfect subtree hashes: each leaf hash (level 0) and each parent it completed. */
  readonly nodes: readonly TreeNode[];
}

export interface NodeStore {
  /** Number of leaves committed. */
  size(): number;
  /**
   * Hash of the perfect subtree (level, index), or undefined if it was never stored. The tree never
   * mutates the returned array, and the store must not change it later either.
   */
  getNode(level: number, index: number): Uint8Array | undefined;
  /**
   * Applies a batch atomically (a SQLite transaction, one file record). Must throw — and change
   * nothing — if the store's size is not `batch.fromSize`.
   */
  commit(batch: AppendBatch): void;
}

/** Throws STORE_CONFLICT unless the store is at the batch's starting size. For store implementers. */
export function requireBatchStart(currentSize: number, batch: AppendBatch): void {
  if (currentSize !== batch.fromSize || batch.toSize !== batch.fromSize + batch.leaves.length) {
    throw new LogError(
      "STORE_CONFLICT",
      `batch from size ${batch.fromSize} to ${batch.toSize} with ${batch.leaves.length} leaves does not follow store size ${currentSize}`,
      { storeSize: currentSize, fromSize: batch.fromSize, toSize: batch.toSize, leaves: batch.leaves.length },
    );
  }
}

/**
 * An in-memory store. Each level's hashes live in one growable typed array (32 bytes per node), so a
 * million leaves cost about 64 MB and no per-node objects.
 */
export class MemoryNodeStore implements NodeStore {
  #size = 0;
  readonly #levels: { bytes: Uint8Array; count: number }[] = [];
  readonly #keepLeaves: boolean;
  readonly #leaves: Uint8Array[] = [];

  /** @param options.keepLeaves also keep the leaf data (for tests and small logs; default false). */
  constructor(options: { keepLeaves?: boolean } = {}) {
    this.#keepLeaves = options.keepLeaves ?? false;
  }

  size(): number {
    return this.#size;
  }

  getNode(level: number, index: number): Uint8Array | undefined {
    const lv = this.#levels[level];
    if (lv === undefined || index < 0 || index >= lv.count || !Number.isInteger(index)) return undefined;
    return lv.bytes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  /** The leaf data at index, when constructed with keepLeaves. */
  leaf(index: number): Uint8Array | undefined {
    return this.#leaves[index];
  }

  commit(batch: AppendBatch): void {
    requireBatchStart(this.#size, batch);
    // Validate the whole batch before writing any of it, so a bad batch changes nothing. Within a
    // level, nodes must continue the level's sequence exactly.
    const next: number[] = [];
    for (const node of batch.nodes) {
      const expected = next[node.level] ?? this.#levels[node.level]?.count ?? 0;
      if (node.hash.length !== HASH_SIZE || node.index !== expected) {
        throw new LogError("STORE_CONFLICT", `node (${node.level}, ${node.index}) does not extend level ${node.level} at ${expected}`, {
          level: node.level,
          index: node.index,
          expected,
        });
      }
      next[node.level] = expected + 1;
    }
    for (const node of batch.nodes) this.#put(node);
    if (this.#keepLeaves) this.#leaves.push(...batch.leaves.map((l) => l.slice()));
    this.#size = batch.toSize;
  }

  /**
   * Rebuilds the tree's nodes from leaf hashes alone, for a log whose leaf data is no longer at
   * hand (e.g. an agent's pruned ledger segments). Requires an empty store; call before
   * `MerkleTree.open`. Leaf data is not kept, even with keepLeaves.
   */
  restoreLeafHashes(hashes: readonly Uint8Array[]): void {
    if (this.#size !== 0) {
      throw new LogError("STORE_CONFLICT", `restoreLeafHashes needs an empty store, this one holds ${this.#size} leaves`, { size: this.#size });
    }
    const range = CompactRange.empty();
    for (const hash of hashes) range.append(hash, (level, index, h) => this.#put({ level, index, hash: h }));
    this.#size = hashes.length;
  }

  #put(node: TreeNode): void {
    while (this.#levels.length <= node.level) this.#levels.push({ bytes: new Uint8Array(64 * HASH_SIZE), count: 0 });
    const lv = this.#levels[node.level]!;
    if ((lv.count + 1) * HASH_SIZE > lv.bytes.length) {
      const grown = new Uint8Array(lv.bytes.length * 2);
      grown.set(lv.bytes);
      lv.bytes = grown;
    }
    lv.bytes.set(node.hash, lv.count * HASH_SIZE);
    lv.count++;
  }
}
