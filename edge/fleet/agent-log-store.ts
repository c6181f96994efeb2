import { requireBatchStart, type AppendBatch, type NodeStore } from "../../shared/log/index.js";
import type { SqlDatabase } from "./sql-database.js";
import { blob } from "./sql-values.js";

/**
 * shared/log's NodeStore for one agent's own log over the Fleet object's SQLite: perfect-subtree
 * hashes in `agent_log_nodes` (keyed by agent), the size in `agent_log_sizes`. The leaves' bytes
 * are not stored again: they are the agent's records, in `log_entries`. `commit` runs inside the
 * caller's transaction, so a record and its place in both trees are written together or not at all.
 */
export class AgentLogStore implements NodeStore {
  readonly #sql: SqlDatabase;
  readonly #agentId: string;

  constructor(sql: SqlDatabase, agentId: string) {
    this.#sql = sql;
    this.#agentId = agentId;
  }

  size(): number {
    const row = this.#sql.exec<{ size: number }>(`SELECT size FROM agent_log_sizes WHERE agent_id = ?`, this.#agentId).toArray()[0];
    return row?.size ?? 0;
  }

  getNode(level: number, index: number): Uint8Array | undefined {
    const row = this.#sql
      .exec<{ hash: ArrayBuffer }>(`SELECT hash FROM agent_log_nodes WHERE agent_id = ? AND level = ? AND idx = ?`, this.#agentId, level, index)
      .toArray()[0];
    return row === undefined ? undefined : new Uint8Array(row.hash);
  }

  commit(batch: AppendBatch): void {
    requireBatchStart(this.size(), batch);
    for (const node of batch.nodes) {
      this.#sql.exec(`INSERT INTO agent_log_nodes (agent_id, level, idx, hash) VALUES (?, ?, ?, ?)`, this.#agentId, node.level, node.index, blob(node.hash));
    }
    this.#sql.exec(
      `INSERT INTO agent_log_sizes (agent_id, size) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET size = excluded.size`,
      this.#agentId,
      batch.toSize,
    );
  }
}
