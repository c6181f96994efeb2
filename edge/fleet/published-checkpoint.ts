import { witnessName } from "../../shared/checkpoint/agent-log-names.js";
import { cosignatureLine } from "../../shared/note/cosignature.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import { cosignaturesOf, newestCosignedSize } from "./cosignatures.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * GET /v1/log/checkpoint: a signed checkpoint with the agents' cosignature lines appended (one note,
 * several signatures). A verifier that knows only the log key ignores the lines it has no key for
 * (C2SP signed notes, Go's note.Open), so old clients keep working; an auditor who pinned witness
 * keys checks "cosigned by ≥ k of these agents".
 */

/** Cosignature lines on one published note at most (one per agent). */
export const PUBLISHED_COSIGNATURES_MAX = 48;

export interface CheckpointQuery {
  /** That checkpoint (default: the latest, or with `quorum` the newest that has it). */
  readonly size?: number;
  /** Only these agents' cosignatures (1…48 agent ids). */
  readonly witnesses?: readonly string[];
  /** The newest checkpoint with at least this many cosignatures (of `witnesses` when given). */
  readonly quorum?: number;
}

export interface PublishedCheckpoint {
  readonly note: string;
  readonly size: number;
  /** The agents whose cosignatures the note carries, in line order. */
  readonly cosigners: readonly string[];
}

/** The checkpoint the query names, with its cosignature lines. */
export function publishedCheckpoint(sql: SqlDatabase, fleetOrigin: string, query: CheckpointQuery): Outcome<PublishedCheckpoint> {
  let size = query.size;
  if (query.quorum !== undefined) {
    size = newestCosignedSize(sql, query.quorum, query.witnesses, query.size);
    if (size === undefined) {
      const among = query.witnesses === undefined ? "" : ` among the ${query.witnesses.length} witnesses named`;
      const what = query.size === undefined ? `no checkpoint has ${query.quorum} or more` : `checkpoint ${query.size} has fewer than ${query.quorum}`;
      return failure(404, "checkpoint_not_found", `${what} cosignatures${among}`, { quorum: query.quorum });
    }
  }
  const row =
    size === undefined
      ? sql.exec<{ size: number; note: string }>(`SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`).toArray()[0]
      : sql.exec<{ size: number; note: string }>(`SELECT size, note FROM checkpoints WHERE size = ?`, size).toArray()[0];
  if (row === undefined) {
    if (size === undefined) return failure(503, "log_signing_key_missing", "the log has no checkpoint: LOG_SIGNING_KEY is not configured");
    return failure(404, "checkpoint_not_found", `no signed checkpoint has size ${size}`, { size });
  }
  const cosignatures = cosignaturesOf(sql, row.size, query.witnesses, PUBLISHED_COSIGNATURES_MAX);
  const lines = cosignatures.map((c) => cosignatureLine(witnessName(fleetOrigin, c.agentId), c.signature)).join("");
  return success({ note: row.note + lines, size: row.size, cosigners: cosignatures.map((c) => c.agentId) });
}
