import { CompactRange } from "../../shared/log/compact-range.js";
import { requireBatchStart, type AppendBatch, type NodeStore, type TreeNode } from "../../shared/log/node-store.js";
import { HASH_SIZE } from "../../shared/log/rfc6962.js";

/**
 * shared/log's NodeStore for the agent's log. The durable copy of the log is the ledger's segment
 * files (plus the leaf-hash cache for pruned segments); the node hashes are derived data, kept in
 * memory (about 64 bytes per record: each level in one growable typed array) and rebuilt from the
 * files on open. That keeps an SD card write per record to one frame, not O(log n) node writes.
 */
export class LedgerNodeStore implements NodeStore {
  #size = 0;
  readonly #levels: { bytes: Uint8Array; count: number }[] = [];

  size(): number {
    return this.#size;
  }

  getNode(level: number, index: number): Uint8Array | undefined {
    const lv = this.#levels[level];
    if (lv === undefined || !Number.isInteger(index) || index < 0 || index >= lv.count) return undefined;
    return lv.bytes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  commit(batch: AppendBatch): void {
    requireBatchStart(this.#size, batch);
    for (const node of batch.nodes) {
      const expected = this.#levels[node.level]?.count ?? 0;
      if (node.index !== expected || node.hash.length !== HASH_SIZE) {
        throw new RangeError(`node (${node.level}, ${node.index}) does not extend level ${node.level} at ${expected}`);
      }
      this.#put(node);
    }
    this.#size = batch.toSize;
  }

  /**
   * Restores leaves known only by their hashes (records pruned from disk, from the leaf-hash
   * cache). Requires an empty store; call before `MerkleTree.open`.
   */
  restoreLeafHashes(hashes: readonly Uint8Array[]): void {
    if (this.#size !== 0) throw new RangeError(`restoreLeafHashes needs an empty store, this one holds ${this.#size} leaves`);
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
