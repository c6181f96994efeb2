import type { AgentKeysJson } from "../../shared/api/index.js";
import { isLogError } from "../../shared/log/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { ConsistencyProofJson, EntryJson, GlobalLog, InclusionProofBatchJson, InclusionProofJson } from "./global-log.js";
import { agentKeys } from "./key-history.js";
import { publishedCheckpoint, type CheckpointQuery, type PublishedCheckpoint } from "./published-checkpoint.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * The public log routes' answers over the global log: checkpoints (with agents' cosignatures),
 * proofs (against the latest checkpoint's size unless one is named; a named size must be one a
 * checkpoint signed), pages of entries, and agents' key histories. Reads only.
 */
export class LogQueries {
  readonly #log: GlobalLog;
  readonly #sql: SqlDatabase;
  readonly #origin: () => string;

  constructor(log: GlobalLog, sql: SqlDatabase, origin: () => string) {
    this.#log = log;
    this.#sql = sql;
    this.#origin = origin;
  }

  #defaultSize(): number {
    return this.#log.latestCheckpoint()?.size ?? this.#log.size;
  }

  /**
   * A proof is only worth what the checkpoint its root is checked against: a size no checkpoint
   * signed would prove membership in a tree nobody vouched for. Undefined when every size is signed.
   */
  #unsigned(sizes: readonly (number | undefined)[]): Outcome<never> | undefined {
    for (const size of sizes) {
      if (size === undefined) continue;
      if (this.#sql.exec(`SELECT 1 FROM checkpoints WHERE size = ?`, size).toArray().length > 0) continue;
      const latest = this.#log.latestCheckpoint()?.size;
      const tail = latest === undefined ? "the log has no checkpoint yet" : `the latest is ${latest}`;
      return failure(400, "unsigned_size", `no signed checkpoint has size ${size}; ${tail}`, { size, ...(latest === undefined ? {} : { latest }) });
    }
    return undefined;
  }

  checkpoint(query: CheckpointQuery = {}): Outcome<PublishedCheckpoint> {
    return publishedCheckpoint(this.#sql, this.#origin(), query);
  }

  inclusionProof(query: { index?: number; agentId?: string; seq?: number; size?: number }): Outcome<InclusionProofJson & { agentId: string; seq: number }> {
    const unsigned = this.#unsigned([query.size]);
    if (unsigned !== undefined) return unsigned;
    let index = query.index;
    if (index === undefined) {
      const found = query.agentId !== undefined && query.seq !== undefined ? this.#log.find(query.agentId, query.seq) : undefined;
      if (found === undefined) return failure(404, "entry_not_found", `no record (agent ${query.agentId}, seq ${query.seq}) in the global log`);
      index = found.index;
    }
    const at = index;
    const size = query.size ?? this.#defaultSize();
    return proof(() => {
      const entry = this.#log.entryKey(at);
      return { ...this.#log.inclusionProof(at, size), agentId: entry?.agentId ?? "", seq: entry?.seq ?? -1 };
    });
  }

  inclusionProofs(query: { indices: readonly number[]; size?: number }): Outcome<InclusionProofBatchJson> {
    const unsigned = this.#unsigned([query.size]);
    if (unsigned !== undefined) return unsigned;
    const size = query.size ?? this.#defaultSize();
    return proof(() => this.#log.inclusionProofs(query.indices, size));
  }

  consistencyProof(query: { from: number; to?: number }): Outcome<ConsistencyProofJson> {
    const unsigned = this.#unsigned([query.from, query.to]);
    if (unsigned !== undefined) return unsigned;
    const to = query.to ?? this.#defaultSize();
    return proof(() => this.#log.consistencyProof(query.from, to));
  }

  entries(start: number, end: number): Outcome<{ start: number; end: number; size: number; entries: EntryJson[] }> {
    if (end < start) return failure(400, "bad_range", `end ${end} is before start ${start}`, { start, end });
    const entries = this.#log.entries(start, end);
    return success({ start, end: start + entries.length, size: this.#log.size, entries });
  }

  agentKeys(agentId: string): Outcome<AgentKeysJson> {
    const keys = agentKeys(this.#sql, this.#origin(), agentId);
    return keys === undefined ? failure(404, "agent_not_found", `no agent ${agentId.slice(0, 64)} in this fleet`) : success(keys);
  }
}

/** A proof, or a malformed request (bad sizes or indices) as 400 bad_proof_request. */
function proof<T>(build: () => T): Outcome<T> {
  try {
    return success(build());
  } catch (err) {
    if (isLogError(err)) return failure(400, "bad_proof_request", err.message, err.details);
    throw err;
  }
}
