import { agentLogOrigin } from "../../shared/checkpoint/agent-log-names.js";
import { consistencyProofDocument, inclusionProofDocument, isLogError, type ConsistencyProofDocument, type InclusionProofDocument } from "../../shared/log/index.js";
import { bytesToBase64 } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import { readAgentCheckpoint, readAgentCheckpointBefore, type StoredAgentCheckpoint } from "./agent-checkpoints.js";
import type { AgentLogs } from "./agent-logs.js";
import type { FleetStorage } from "./sql-database.js";
import type { AgentCheckpointJson } from "../../shared/api/index.js";

export type { AgentCheckpointJson };

/** `?size=` or `?before=` of GET /v1/log/agents/:agentId/checkpoint (the route refuses both at once). */
export interface AgentCheckpointQuery {
  readonly size?: number;
  readonly before?: number;
}

/**
 * The public agent-log routes' answers: an agent's accepted checkpoints and proofs in its own log,
 * only at sizes the agent signed (an auditor checks a proof against a signed root, never against
 * the one the response carries). Reads only (a tree behind its records is caught up first).
 */
export class AgentLogQueries {
  readonly #storage: FleetStorage;
  readonly #logs: AgentLogs;
  readonly #origin: () => string;

  constructor(storage: FleetStorage, logs: AgentLogs, origin: () => string) {
    this.#storage = storage;
    this.#logs = logs;
    this.#origin = origin;
  }

  /**
   * The latest accepted checkpoint, the one of `size`, or the newest whose global-log index is below
   * `before` (the one a global checkpoint of that size commits: an auditor's fallback).
   */
  checkpoint(agentId: string, query: AgentCheckpointQuery = {}): Outcome<AgentCheckpointJson> {
    const { size, before } = query;
    const found = before === undefined ? readAgentCheckpoint(this.#storage, agentId, size) : readAgentCheckpointBefore(this.#storage, agentId, before);
    if (found === undefined) return notFound(agentId, query);
    return success({
      agentId,
      origin: agentLogOrigin(this.#origin(), agentId),
      size: found.size,
      root: bytesToBase64(found.root),
      note: found.note,
      index: found.index,
      receivedAt: found.receivedAt,
    });
  }

  /** Record `seq`'s inclusion in the agent's log at a signed size (default the latest). */
  inclusionProof(query: { agentId: string; seq: number; size?: number }): Outcome<InclusionProofDocument> {
    const signed = this.#signed(query.agentId, query.size);
    if (!signed.ok) return signed;
    const { size, root } = signed.value;
    if (query.seq >= size) {
      return failure(400, "bad_proof_request", `seq ${query.seq} is not in the agent's log of size ${size}`, { seq: query.seq, size });
    }
    return proof(() => {
      const tree = this.#logs.synced(query.agentId);
      return inclusionProofDocument(tree.leafHash(query.seq), query.seq, size, tree.inclusionProof(query.seq, size), root);
    });
  }

  /** Consistency of the agent's log between two signed sizes (`to` defaults to the latest). */
  consistencyProof(query: { agentId: string; from: number; to?: number }): Outcome<ConsistencyProofDocument> {
    const to = this.#signed(query.agentId, query.to);
    if (!to.ok) return to;
    const from = this.#signed(query.agentId, query.from);
    if (!from.ok) return from;
    return proof(() => {
      const tree = this.#logs.synced(query.agentId);
      return consistencyProofDocument(from.value.size, to.value.size, tree.consistencyProof(from.value.size, to.value.size), from.value.root, to.value.root);
    });
  }

  /** The accepted checkpoint of `size` (default the latest): 404 without any, 400 unsigned_size for a size never signed. */
  #signed(agentId: string, size: number | undefined): Outcome<StoredAgentCheckpoint> {
    const latest = readAgentCheckpoint(this.#storage, agentId);
    if (latest === undefined) return notFound(agentId, {});
    if (size === undefined || size === latest.size) return success(latest);
    const exact = readAgentCheckpoint(this.#storage, agentId, size);
    if (exact !== undefined) return success(exact);
    return failure(400, "unsigned_size", `no signed checkpoint of agent ${agentId} has size ${size}; the latest is ${latest.size}`, { size, latest: latest.size });
  }
}

function notFound(agentId: string, query: AgentCheckpointQuery): Outcome<never> {
  const which =
    query.before !== undefined
      ? `no accepted checkpoint with a global-log index below ${query.before}`
      : query.size === undefined
        ? "no accepted checkpoint"
        : `no accepted checkpoint of size ${query.size}`;
  return failure(404, "agent_checkpoint_not_found", `${which} for agent ${agentId.slice(0, 64)} in this fleet`);
}

/** A proof, or a malformed request (sizes out of range) as 400 bad_proof_request. */
function proof<T>(build: () => T): Outcome<T> {
  try {
    return success(build());
  } catch (err) {
    if (isLogError(err)) return failure(400, "bad_proof_request", err.message, err.details);
    throw err;
  }
}
