import { MerkleTree } from "../../shared/log/index.js";
import { AgentLogStore } from "./agent-log-store.js";
import type { FleetStorage } from "./sql-database.js";

/** Agents' trees kept open in memory (each holds O(log n) hashes); the least recently opened go first. */
const OPEN_TREES_MAX = 4096;

/** Records read per step of a backfill: bounds memory (a record may be 64 KiB). */
const BACKFILL_PAGE = 64;

/**
 * Every agent's own log, as the edge rebuilds it from the records it accepted: an RFC 6962 tree per
 * agent (shared/log's MerkleTree over AgentLogStore) whose leaf `seq` is the agent's record `seq`,
 * with the same entry bytes (and so the same leaf hash) as in the global log. This is what an
 * agent's signed checkpoints are checked against and what proofs of its log are built from.
 *
 * A record appended to the global log is appended here in the same transaction (`appended`). A tree
 * behind the agent's records in `log_entries` — a database from before agent logs existed, or records
 * written around this object — is caught up from there on first use (`synced`).
 */
export class AgentLogs {
  readonly #storage: FleetStorage;
  readonly #trees = new Map<string, MerkleTree>();

  constructor(storage: FleetStorage) {
    this.#storage = storage;
  }

  /**
   * The agent's records `firstSeq`, `firstSeq + 1`, … with entry bytes `leaves` were just appended to
   * the global log: append them to the agent's tree, in one commit. Call inside that transaction
   * (their `log_entries` rows are already written).
   */
  appended(agentId: string, firstSeq: number, leaves: readonly Uint8Array[]): void {
    if (leaves.length === 0) return;
    const tree = this.#tree(agentId);
    // Any other size (a tree behind, from an older database): catch up from log_entries, which holds these too.
    if (tree.size === firstSeq) tree.appendMany(leaves);
    else this.#backfill(agentId, tree);
  }

  /** The agent's tree holding every record of the agent the global log has (backfilled if behind). */
  synced(agentId: string): MerkleTree {
    const tree = this.#tree(agentId);
    this.#storage.transaction(() => this.#backfill(agentId, tree));
    return tree;
  }

  /** Forget the open trees (after a rolled-back transaction: the store is the truth). */
  reload(): void {
    this.#trees.clear();
  }

  #tree(agentId: string): MerkleTree {
    let tree = this.#trees.get(agentId);
    if (tree === undefined) {
      tree = MerkleTree.open(new AgentLogStore(this.#storage.sql, agentId));
      if (this.#trees.size >= OPEN_TREES_MAX) this.#trees.delete(this.#trees.keys().next().value!);
      this.#trees.set(agentId, tree);
    }
    return tree;
  }

  /** Appends the agent's records from the tree's size on, in seq order, page by page. */
  #backfill(agentId: string, tree: MerkleTree): void {
    for (;;) {
      const rows = this.#storage.sql
        .exec<{ seq: number; data: ArrayBuffer }>(
          `SELECT seq, data FROM log_entries WHERE agent_id = ? AND seq >= ? ORDER BY seq LIMIT ?`,
          agentId,
          tree.size,
          BACKFILL_PAGE,
        )
        .toArray();
      // Seqs are contiguous from 0 (the edge appends only nextSeq); a hole would misnumber every later leaf.
      const contiguous = rows.filter((row, i) => row.seq === tree.size + i);
      if (contiguous.length !== rows.length) {
        console.error(`agent log ${agentId}: records after seq ${tree.size + contiguous.length - 1} are not contiguous; backfill stops there`);
      }
      if (contiguous.length > 0) tree.appendMany(contiguous.map((row) => new Uint8Array(row.data)));
      if (contiguous.length < BACKFILL_PAGE) return;
    }
  }
}
