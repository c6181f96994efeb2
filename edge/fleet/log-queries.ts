import { isLogError } from "../../shared/log/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { ConsistencyProofJson, EntryJson, GlobalLog, InclusionProofBatchJson, InclusionProofJson } from "./global-log.js";

/**
 * The public log routes' answers over the global log: the latest checkpoint, proofs (against the
 * latest checkpoint's size unless one is named) and pages of entries. Reads only.
 */
export class LogQueries {
  readonly #log: GlobalLog;

  constructor(log: GlobalLog) {
    this.#log = log;
  }

  #defaultSize(): number {
    return this.#log.latestCheckpoint()?.size ?? this.#log.size;
  }

  checkpoint(): Outcome<{ note: string; size: number }> {
    const latest = this.#log.latestCheckpoint();
    if (latest === undefined) return failure(503, "log_signing_key_missing", "the log has no checkpoint: LOG_SIGNING_KEY is not configured");
    return success({ note: latest.note, size: latest.size });
  }

  inclusionProof(query: { index?: number; agentId?: string; seq?: number; size?: number }): Outcome<InclusionProofJson & { agentId: string; seq: number }> {
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
    const size = query.size ?? this.#defaultSize();
    return proof(() => this.#log.inclusionProofs(query.indices, size));
  }

  consistencyProof(query: { from: number; to?: number }): Outcome<ConsistencyProofJson> {
    const to = query.to ?? this.#defaultSize();
    return proof(() => this.#log.consistencyProof(query.from, to));
  }

  entries(start: number, end: number): Outcome<{ start: number; end: number; size: number; entries: EntryJson[] }> {
    if (end < start) return failure(400, "bad_range", `end ${end} is before start ${start}`, { start, end });
    const entries = this.#log.entries(start, end);
    return success({ start, end: start + entries.length, size: this.#log.size, entries });
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
