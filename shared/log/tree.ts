/**
 * An append-only RFC 6962 Merkle tree over a NodeStore. The tree keeps the compact range of its
 * current size in memory (O(log n) hashes, loaded from the store on open), so an append reads
 * nothing and writes O(1) amortized hashes; roots at earlier sizes and proofs read O(log n) stored
 * perfect-subtree hashes, counted in `nodeReads`.
 *
 * Single writer: one tree instance per store. A second writer is detected at commit (STORE_CONFLICT).
 */
import { CompactRange } from "./compact-range.js";
import { LogError } from "./errors.js";
import type { NodeStore, TreeNode } from "./node-store.js";
import { buildProof, consistencyPlan, foldElement, inclusionPlan, rootPlan, type NodeReader } from "./proof-build.js";
import { EMPTY_ROOT, hashLeaf } from "./rfc6962.js";
import { requireCount } from "./tree-math.js";

export class MerkleTree {
  readonly #store: NodeStore;
  #range: CompactRange;
  #reads = 0;

  private constructor(store: NodeStore, range: CompactRange) {
    this.#store = store;
    this.#range = range;
  }

  /**
   * Opens the tree held by a store (empty or not), reading the popcount(size) hashes of its compact range.
   * @throws LogError STORE_MISSING_NODE when the store lacks one of them
   */
  static open(store: NodeStore): MerkleTree {
    const tree = new MerkleTree(store, CompactRange.empty());
    tree.#range = tree.#loadRange();
    return tree;
  }

  /** Number of leaves. */
  get size(): number {
    return this.#range.size;
  }

  /** Stored hashes read so far (proofs, historical roots, opening); appends read none. */
  get nodeReads(): number {
    return this.#reads;
  }

  /** Appends one leaf (its data is hashed as an RFC 6962 leaf) and returns its index. */
  append(leafData: Uint8Array): number {
    return this.appendMany([leafData]);
  }

  /**
   * Appends leaves in one atomic commit and returns the index of the first.
   * @throws LogError STORE_CONFLICT if the store moved under this tree (the tree then reloads)
   */
  appendMany(leaves: readonly Uint8Array[]): number {
    const fromSize = this.#range.size;
    const nodes: TreeNode[] = [];
    const visit = (level: number, index: number, hash: Uint8Array) => nodes.push({ level, index, hash });
    // The range advances first; if the commit fails, it is reloaded from the store, which stays the
    // source of truth (this also resynchronises after a second writer).
    for (const data of leaves) this.#range.append(hashLeaf(data), visit);
    try {
      this.#store.commit({ fromSize, toSize: this.#range.size, leaves, nodes });
    } catch (err) {
      this.#range = this.#loadRange();
      throw err;
    }
    return fromSize;
  }

  /**
   * The root of the tree at `size` (default: now). The current root needs no reads; an earlier one
   * reads popcount(size) stored hashes.
   * Requires 0 <= size <= this.size.
   */
  root(size: number = this.size): Uint8Array {
    this.#requireSize("size", size);
    if (size === this.size) return this.#range.root();
    if (size === 0) return EMPTY_ROOT.slice();
    return foldElement(rootPlan(size), this.#reader);
  }

  /** The stored hash of leaf `index`. Requires 0 <= index < size. */
  leafHash(index: number): Uint8Array {
    requireCount("index", index);
    if (index >= this.size) {
      throw new LogError("INDEX_OUT_OF_RANGE", `index ${index} out of range for tree size ${this.size}`, { index, size: this.size });
    }
    return this.#reader(0, index).slice();
  }

  /**
   * The inclusion proof of leaf `index` in the tree at `size` (default: now), bottom-up.
   * Requires 0 <= index < size <= this.size.
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#requireSize("size", size);
    return buildProof(inclusionPlan(index, size), this.#reader);
  }

  /**
   * The consistency proof from the tree at size1 to the tree at size2 (default: now).
   * Requires 0 < size1 <= size2 <= this.size.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.#requireSize("size2", size2);
    return buildProof(consistencyPlan(size1, size2), this.#reader);
  }

  #requireSize(name: string, size: number): void {
    requireCount(name, size);
    if (size > this.size) {
      throw new LogError("SIZE_OUT_OF_RANGE", `${name} ${size} is beyond the tree size ${this.size}`, { [name]: size, treeSize: this.size });
    }
  }

  readonly #reader: NodeReader = (level, index) => {
    this.#reads++;
    const hash = this.#store.getNode(level, index);
    if (hash === undefined) {
      throw new LogError("STORE_MISSING_NODE", `store lacks node (level ${level}, index ${index})`, { level, index });
    }
    return hash;
  };

  #loadRange(): CompactRange {
    const size = this.#store.size();
    return CompactRange.fromHashes(size, size === 0 ? [] : rootPlan(size).map(({ level, index }) => this.#reader(level, index)));
  }
}
