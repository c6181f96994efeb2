import { agentLogOrigin, agentLogVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { openCheckpoint, parseCheckpoint, type Checkpoint } from "../../shared/checkpoint/index.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { encodeUtf8 } from "../../shared/encoding/utf8.js";
import { AGENT_CHECKPOINT_NOTE_MAX_BYTES } from "../../shared/log/index.js";
import { parseNote, parseVerifierKey } from "../../shared/note/index.js";
import { base64UrlToBytes, bytesToBase64 } from "../../shared/protocol/index.js";
import type { AgentLogs } from "./agent-logs.js";
import type { AgentRows } from "./agent-rows.js";
import type { GlobalLog } from "./global-log.js";
import { appendOutbox } from "./outbox.js";
import { hitRateLimit } from "./rate-limit.js";
import type { AgentRow } from "./registry.js";
import type { FleetStorage } from "./sql-database.js";
import { blob } from "./sql-values.js";
import { AGENT_LOG_INCONSISTENT, type Standing } from "./standing.js";

/** At most one accepted agent checkpoint per agent per this long (each is an entry of the global log). */
export const AGENT_CHECKPOINT_INTERVAL_MS = 5000;

/** At most one `agent.log_inconsistent` event per agent per this long (the quarantine is already sticky). */
export const LOG_INCONSISTENT_EVENT_INTERVAL_MS = 60_000;

/**
 * What the edge makes of an agent's signed checkpoint (docs/protocol.md, `agent_checkpoint`), in
 * the order it is judged: a refusal as the protocol error the agent gets, or accepted, or ignored.
 */
export type AgentCheckpointVerdict =
  | { readonly kind: "bad_checkpoint"; readonly message: string }
  | { readonly kind: "checkpoint_ahead"; readonly size: number; readonly held: number }
  | { readonly kind: "agent_log_inconsistent"; readonly size: number; readonly claimedRoot: Uint8Array; readonly expectedRoot: Uint8Array }
  | { readonly kind: "ignored"; readonly size: number; readonly latest: number }
  | { readonly kind: "rate_limited"; readonly retryAfterMs: number }
  | { readonly kind: "accept"; readonly size: number; readonly root: Uint8Array };

/** What the edge knows when it judges a checkpoint the agent's key signed. */
export interface AgentLogFacts {
  /** Records the edge holds for the agent: the size of its tree. */
  readonly held: number;
  /** The edge's root of the agent's records at `size` (≤ held). */
  readonly rootAt: (size: number) => Uint8Array;
  /** The latest accepted checkpoint of the agent, if any. */
  readonly latest: { readonly size: number } | undefined;
}

/**
 * Opens an agent's checkpoint note: at most AGENT_CHECKPOINT_NOTE_MAX_BYTES, exactly one signature
 * line, by the agent's enrolled key under the name agentLogOrigin, over a checkpoint of that origin.
 * Pure. Returns the checkpoint, or why it is refused.
 */
export function openAgentCheckpoint(
  note: string,
  fleetOrigin: string,
  agentId: string,
  publicKey: Uint8Array,
): { readonly ok: true; readonly checkpoint: Checkpoint } | { readonly ok: false; readonly message: string } {
  const bytes = encodeUtf8(note).length;
  if (bytes > AGENT_CHECKPOINT_NOTE_MAX_BYTES) return { ok: false, message: `the note is ${bytes} bytes, limit ${AGENT_CHECKPOINT_NOTE_MAX_BYTES}` };
  const origin = agentLogOrigin(fleetOrigin, agentId);
  try {
    // One signature, the device key's: the note is stored in the global log exactly as received.
    const lines = parseNote(note).signatures.length;
    if (lines !== 1) return { ok: false, message: `an agent checkpoint carries exactly one signature (the device key's), this one ${lines}` };
    const verifier = parseVerifierKey(agentLogVerifierKey(fleetOrigin, agentId, publicKey));
    return { ok: true, checkpoint: openCheckpoint(note, [verifier], { origin }).checkpoint };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `not a checkpoint of ${origin} signed by this agent's enrolled key: ${reason}` };
  }
}

/**
 * What can be refused before the signature is checked (pure): a note that does not parse, carries
 * extension lines (an agent's checkpoint has none: they would only pad the log) or signs the empty
 * log (nothing to commit); and any note within AGENT_CHECKPOINT_INTERVAL_MS of the agent's last
 * accepted one (`rate_limited`, whatever it says: it is looked at again once the interval is over).
 */
export function precheckAgentCheckpoint(
  note: string,
  latest: { readonly size: number; readonly receivedAt: number } | undefined,
  now: number,
): AgentCheckpointVerdict | undefined {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (err) {
    return { kind: "bad_checkpoint", message: `not a signed checkpoint note: ${err instanceof Error ? err.message : String(err)}` };
  }
  if ((checkpoint.extensions ?? []).length > 0) return { kind: "bad_checkpoint", message: "an agent checkpoint has no extension lines" };
  if (checkpoint.size === 0) return { kind: "bad_checkpoint", message: "an agent checkpoint of the empty log commits nothing; sign one of at least one record" };
  if (latest !== undefined && now >= latest.receivedAt && now - latest.receivedAt < AGENT_CHECKPOINT_INTERVAL_MS) {
    return { kind: "rate_limited", retryAfterMs: latest.receivedAt + AGENT_CHECKPOINT_INTERVAL_MS - now };
  }
  return undefined;
}

/**
 * Judges a checkpoint the agent's key signed against the agent's records (docs/edge.md, Agent logs).
 * The 5 s interval was judged before the signature (precheckAgentCheckpoint). Pure.
 */
export function judgeAgentCheckpoint(checkpoint: Checkpoint, facts: AgentLogFacts): AgentCheckpointVerdict {
  const { size, root } = checkpoint;
  if (size > facts.held) return { kind: "checkpoint_ahead", size, held: facts.held };
  const expected = facts.rootAt(size);
  if (!bytesEqual(root, expected)) return { kind: "agent_log_inconsistent", size, claimedRoot: root, expectedRoot: expected };
  const latest = facts.latest;
  if (latest !== undefined && size < latest.size) {
    return { kind: "bad_checkpoint", message: `size ${size} is below the agent's latest accepted checkpoint (size ${latest.size}): an agent log only grows` };
  }
  if (latest !== undefined && size === latest.size) return { kind: "ignored", size, latest: latest.size };
  return { kind: "accept", size, root };
}

/** An accepted agent checkpoint as stored. */
export interface StoredAgentCheckpoint {
  readonly agentId: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  /** Global log index of the 0x02 entry holding the note. */
  readonly index: number;
  readonly receivedAt: number;
}

type CheckpointRow = { agent_id: string; size: number; root: ArrayBuffer; note: string; log_index: number; received_at: number };

function stored(row: CheckpointRow): StoredAgentCheckpoint {
  return { agentId: row.agent_id, size: row.size, root: new Uint8Array(row.root), note: row.note, index: row.log_index, receivedAt: row.received_at };
}

/** The agent's latest accepted checkpoint, or the one of `size`. */
export function readAgentCheckpoint(storage: FleetStorage, agentId: string, size?: number): StoredAgentCheckpoint | undefined {
  const row =
    size === undefined
      ? storage.sql.exec<CheckpointRow>(`SELECT * FROM agent_checkpoints WHERE agent_id = ? ORDER BY size DESC LIMIT 1`, agentId).toArray()[0]
      : storage.sql.exec<CheckpointRow>(`SELECT * FROM agent_checkpoints WHERE agent_id = ? AND size = ?`, agentId, size).toArray()[0];
  return row === undefined ? undefined : stored(row);
}

/** The agent's newest accepted checkpoint whose 0x02 entry's global index is below `before` (what a global checkpoint of size `before` commits). */
export function readAgentCheckpointBefore(storage: FleetStorage, agentId: string, before: number): StoredAgentCheckpoint | undefined {
  // Accepted sizes only grow, so the newest entry below `before` is also the largest size there.
  const row = storage.sql.exec<CheckpointRow>(`SELECT * FROM agent_checkpoints WHERE agent_id = ? AND log_index < ? ORDER BY log_index DESC LIMIT 1`, agentId, before).toArray()[0];
  return row === undefined ? undefined : stored(row);
}

export interface AgentCheckpointParts {
  readonly storage: FleetStorage;
  readonly rows: AgentRows;
  readonly logs: AgentLogs;
  readonly log: GlobalLog;
  readonly standing: Standing;
  /** The fleet's checkpoint origin (agents' origins extend it). */
  readonly origin: () => string;
}

/**
 * Agents' signed checkpoints of their own logs: each is checked against the records the edge holds
 * for the agent; an accepted one becomes an entry of the global log (a log of logs) and the agent's
 * signed head; one that contradicts the records quarantines the agent for good and tells operators.
 */
export class AgentCheckpoints {
  readonly #parts: AgentCheckpointParts;

  constructor(parts: AgentCheckpointParts) {
    this.#parts = parts;
  }

  /** Judges and applies one `agent_checkpoint` from an active agent. */
  receive(row: AgentRow, note: string, now: number): AgentCheckpointVerdict {
    const { storage, logs, log, rows, standing } = this.#parts;
    const agentId = row.id;
    const latest = readAgentCheckpoint(storage, agentId);
    // The cheap refusals first: the signature check is pure-JS Ed25519 (~2 ms), and a flood of
    // notes that would be rate-limited or ignored anyway must not buy that much CPU each.
    const early = precheckAgentCheckpoint(note, latest, now);
    if (early !== undefined) return early;
    const opened = openAgentCheckpoint(note, this.#parts.origin(), agentId, base64UrlToBytes(row.public_key_x));
    if (!opened.ok) return { kind: "bad_checkpoint", message: opened.message };
    const tree = logs.synced(agentId);
    const verdict = judgeAgentCheckpoint(opened.checkpoint, { held: tree.size, rootAt: (size) => tree.root(size), latest });
    if (verdict.kind === "accept") {
      storage.transaction(() => {
        const index = log.appendEntry({ type: "agent-checkpoint", agentId, note }, now);
        storage.sql.exec(
          `INSERT INTO agent_checkpoints (agent_id, size, root, note, log_index, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
          agentId,
          verdict.size,
          blob(verdict.root),
          note,
          index,
          now,
        );
        rows.write(agentId, { agent_log_size: verdict.size, agent_log_root: bytesToBase64(verdict.root) });
      });
    } else if (verdict.kind === "agent_log_inconsistent") {
      const data = { agentId, size: verdict.size, claimedRoot: bytesToBase64(verdict.claimedRoot), expectedRoot: bytesToBase64(verdict.expectedRoot), note };
      // Loud: the agent's own key signed a history other than the records it sent.
      console.error("fleet: agent log inconsistent", JSON.stringify(data));
      storage.transaction(() => {
        standing.quarantineSticky(agentId, AGENT_LOG_INCONSISTENT, now);
        const key = `agent-log-inconsistent:${agentId}`;
        if (hitRateLimit(storage.sql, key, 1, LOG_INCONSISTENT_EVENT_INTERVAL_MS, now).allowed) appendOutbox(storage.sql, "agent.log_inconsistent", data, now);
      });
    }
    return verdict;
  }
}
