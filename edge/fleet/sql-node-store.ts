import { blob } from "./sql-values.js";
import { requireBatchStart, type AppendBatch, type NodeStore } from "../../shared/log/index.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * shared/log's NodeStore over the Fleet object's SQLite: perfect-subtree hashes in `log_nodes`, leaf
 * data in `log_entries` (written by the caller with its (agentId, seq), see GlobalLog), the size in
 * `meta`. `commit` runs inside the caller's transaction, so a batch is all or nothing.
 */
export class SqlNodeStore implements NodeStore {
  readonly #sql: SqlDatabase;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  size(): number {
    const row = this.#sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'log_size'`).toArray()[0];
    return row === undefined ? 0 : Number(row.value);
  }

  getNode(level: number, index: number): Uint8Array | undefined {
    const row = this.#sql
      .exec<{ hash: ArrayBuffer }>(`SELECT hash FROM log_nodes WHERE level = ? AND idx = ?`, level, index)
      .toArray()[0];
    return row === undefined ? undefined : new Uint8Array(row.hash);
  }

  commit(batch: AppendBatch): void {
    requireBatchStart(this.size(), batch);
    for (const node of batch.nodes) {
      this.#sql.exec(`INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)`, node.level, node.index, blob(node.hash));
    }
    this.#sql.exec(
      `INSERT INTO meta (key, value) VALUES ('log_size', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      String(batch.toSize),
    );
  }
}
