import { parseCheckpoint, signCheckpoint } from "../../shared/checkpoint/index.js";
import { parseNote } from "../../shared/note/index.js";
import {
  MerkleTree,
  consistencyProofDocument,
  decodeLogEntry,
  decodeRecord,
  encodeLogEntry,
  encodeRecord,
  inclusionProofDocument,
  type ConsistencyProofDocument,
  type InclusionProofBatchDocument,
  type InclusionProofDocument,
  type LogEntry,
  type SealedRecord,
} from "../../shared/log/index.js";
import type { EntryJson, RecordEntryJson } from "../../shared/api/index.js";
import type { NoteSigner } from "../../shared/note/index.js";
import { bytesToBase64 } from "../../shared/protocol/index.js";
import { SqlNodeStore } from "./sql-node-store.js";
import { blob } from "./sql-values.js";
import type { SqlDatabase } from "./sql-database.js";

/** Longest page of `entries`. */
export const ENTRIES_PAGE_LIMIT = 256;
/** Checkpoints are published at most this often while the tree grows. */
export const CHECKPOINT_INTERVAL_MS = 1000;

export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  readonly createdAt: number;
}

export type AppendOutcome =
  | { readonly kind: "appended"; readonly index: number }
  | { readonly kind: "duplicate"; readonly index: number }
  | { readonly kind: "conflict"; readonly index: number };

/** The shapes `verify-proof` reads (transparency-dev vector format, base64). */
export type InclusionProofJson = InclusionProofDocument;
export type InclusionProofBatchJson = InclusionProofBatchDocument;
export type ConsistencyProofJson = ConsistencyProofDocument;

// GET /v1/log/entries's entry, declared once in shared/api (the dashboard reads it too).
export type { EntryJson, RecordEntryJson };

/** A global-log entry that is not a record: an agent checkpoint or a key event (shared/log/log-entry.ts). */
export type OtherEntry = Exclude<LogEntry, { type: "record" }>;

/**
 * The fleet's global log over SQLite: each accepted record once, keyed by (agentId, seq), and the
 * signed checkpoints. The tree object is rebuilt from `log_nodes` on first use after a wake-up.
 */
export class GlobalLog {
  readonly #sql: SqlDatabase;
  #tree: MerkleTree | undefined;
  #latest: { readonly value: StoredCheckpoint | undefined } | undefined;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  get #merkle(): MerkleTree {
    this.#tree ??= MerkleTree.open(new SqlNodeStore(this.#sql));
    return this.#tree;
  }

  get size(): number {
    return this.#merkle.size;
  }

  /** The index of (agentId, seq) if present. */
  find(agentId: string, seq: number): { index: number; data: Uint8Array } | undefined {
    const row = this.#sql
      .exec<{ idx: number; data: ArrayBuffer }>(`SELECT idx, data FROM log_entries WHERE agent_id = ? AND seq = ?`, agentId, seq)
      .toArray()[0];
    return row === undefined ? undefined : { index: row.idx, data: new Uint8Array(row.data) };
  }

  /** The (agentId, seq) of the entry at `index`, if present. */
  entryKey(index: number): { agentId: string; seq: number } | undefined {
    const row = this.#sql.exec<{ agent_id: string; seq: number }>(`SELECT agent_id, seq FROM log_entries WHERE idx = ?`, index).toArray()[0];
    return row === undefined ? undefined : { agentId: row.agent_id, seq: row.seq };
  }

  /**
   * Appends a record unless (agentId, seq) is already in the log: the same bytes again is a duplicate
   * (acknowledge, do not append), different bytes a conflict. Call inside a transaction.
   * @throws LogError ENTRY_INVALID when the record breaks the entry encoding
   */
  append(record: SealedRecord, now: number): AppendOutcome {
    const data = encodeRecord(record);
    const existing = this.find(record.agentId, record.seq);
    if (existing !== undefined) {
      return { kind: sameBytes(existing.data, data) ? "duplicate" : "conflict", index: existing.index };
    }
    const index = this.#merkle.append(data);
    this.#sql.exec(
      `INSERT INTO log_entries (idx, agent_id, seq, data, appended_at) VALUES (?, ?, ?, ?, ?)`,
      index,
      record.agentId,
      record.seq,
      blob(data),
      now,
    );
    return { kind: "appended", index };
  }

  /**
   * Appends an agent checkpoint or a key event (`log_other_entries`; records keep their own table,
   * keyed by agent and seq). Call inside the transaction that makes the change it records.
   * @throws LogError ENTRY_INVALID
   */
  appendEntry(entry: OtherEntry, now: number): number {
    const data = encodeLogEntry(entry);
    const index = this.#merkle.append(data);
    this.#sql.exec(
      `INSERT INTO log_other_entries (idx, type, agent_id, data, appended_at) VALUES (?, ?, ?, ?, ?)`,
      index,
      entry.type,
      entry.agentId,
      blob(data),
      now,
    );
    return index;
  }

  /** The leaf data at `index`, of any type, if present. */
  leafData(index: number): Uint8Array | undefined {
    const row = this.#sql
      .exec<{ data: ArrayBuffer }>(
        `SELECT data FROM log_entries WHERE idx = ? UNION ALL SELECT data FROM log_other_entries WHERE idx = ?`,
        index,
        index,
      )
      .toArray()[0];
    return row === undefined ? undefined : new Uint8Array(row.data);
  }

  /** Forget the in-memory tree and checkpoint (after a rolled-back transaction, the store is the truth). */
  reload(): void {
    this.#tree = undefined;
    this.#latest = undefined;
  }

  /**
   * The newest checkpoint. Read once and kept (every record batch asks when the next is due); a
   * publish forgets it rather than keeping its own result, which a rolled-back transaction would void.
   */
  latestCheckpoint(): StoredCheckpoint | undefined {
    if (this.#latest === undefined) this.#latest = { value: this.#readLatestCheckpoint() };
    return this.#latest.value;
  }

  #readLatestCheckpoint(): StoredCheckpoint | undefined {
    const row = this.#sql
      .exec<{ size: number; root: ArrayBuffer; note: string; created_at: number }>(
        `SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1`,
      )
      .toArray()[0];
    return row === undefined ? undefined : { size: row.size, root: new Uint8Array(row.root), note: row.note, createdAt: row.created_at };
  }

  /** True when the tree has grown past the latest checkpoint (or none exists yet). */
  needsCheckpoint(): boolean {
    const latest = this.latestCheckpoint();
    return latest === undefined || latest.size < this.size;
  }

  /** When the next checkpoint may be signed, epoch ms (now, if none was signed recently). */
  nextCheckpointAt(now: number, latest = this.latestCheckpoint()): number {
    return latest === undefined ? now : Math.max(now, latest.createdAt + CHECKPOINT_INTERVAL_MS);
  }

  /**
   * Signs and stores a checkpoint of the current tree if it grew (or none exists). Each checkpoint
   * extends the previous one: the tree is append-only and only ever checkpointed at its own size.
   */
  publishCheckpoint(origin: string, signer: NoteSigner, now: number): StoredCheckpoint | undefined {
    if (!this.needsCheckpoint()) return undefined;
    const size = this.size;
    const root = this.#merkle.root(size);
    const note = signCheckpoint({ origin, size, root }, [signer]);
    this.#sql.exec(`INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)`, size, blob(root), note, now);
    this.#latest = undefined;
    return { size, root, note, createdAt: now };
  }

  /** Requires 0 <= index < size <= tree size (checked by the tree, LogError otherwise). */
  inclusionProof(index: number, size: number): InclusionProofJson {
    const proof = this.#merkle.inclusionProof(index, size);
    return inclusionProofDocument(this.#merkle.leafHash(index), index, size, proof, this.#merkle.root(size));
  }

  /** Proofs of several leaves in the tree of `size`, one root computation for all (the batch route). */
  inclusionProofs(indices: readonly number[], size: number): InclusionProofBatchJson {
    const root = this.#merkle.root(size);
    return {
      treeSize: size,
      proofs: indices.map((index) => inclusionProofDocument(this.#merkle.leafHash(index), index, size, this.#merkle.inclusionProof(index, size), root)),
    };
  }

  /** Requires 0 < size1 <= size2 <= tree size. */
  consistencyProof(size1: number, size2: number): ConsistencyProofJson {
    const proof = this.#merkle.consistencyProof(size1, size2);
    return consistencyProofDocument(size1, size2, proof, this.#merkle.root(size1), this.#merkle.root(size2));
  }

  /** Entries [start, end) of every type, end clamped to the tree size and to start + ENTRIES_PAGE_LIMIT. */
  entries(start: number, end: number): EntryJson[] {
    const stop = Math.min(end, this.size, start + ENTRIES_PAGE_LIMIT);
    const rows = this.#sql
      .exec<{ idx: number; agent_id: string; data: ArrayBuffer }>(
        `SELECT idx, agent_id, data FROM log_entries WHERE idx >= ? AND idx < ?
         UNION ALL SELECT idx, agent_id, data FROM log_other_entries WHERE idx >= ? AND idx < ?
         ORDER BY idx`,
        start,
        stop,
        start,
        stop,
      )
      .toArray();
    return rows.map(anyEntryJson);
  }
}

/** A `log_entries` row (a record) as the entries route serves it. */
export function entryJson(row: { idx: number; agent_id: string; seq: number; data: ArrayBuffer }): RecordEntryJson {
  const data = new Uint8Array(row.data);
  const record = decodeRecord(data);
  return {
    type: "record",
    index: row.idx,
    agentId: row.agent_id,
    seq: row.seq,
    leaf: bytesToBase64(data),
    record: {
      kind: record.kind,
      timestamp: record.timestamp,
      payloadJson: record.payloadJson,
      signature: bytesToBase64(record.signature),
    },
  };
}

/** Any entry row, decoded by its tag. */
function anyEntryJson(row: { idx: number; agent_id: string; data: ArrayBuffer }): EntryJson {
  const data = new Uint8Array(row.data);
  const entry = decodeLogEntry(data);
  const base = { index: row.idx, agentId: row.agent_id, leaf: bytesToBase64(data) };
  switch (entry.type) {
    case "record":
      return entryJson({ ...row, seq: entry.record.seq });
    case "agent-checkpoint":
      return { ...base, type: "agent-checkpoint", checkpoint: { size: noteSize(entry.note), note: entry.note } };
    case "key":
      return { ...base, type: "key", key: { event: entry.event, publicKey: bytesToBase64(entry.publicKey), timestamp: entry.timestamp } };
  }
}

/** The size line of a stored agent checkpoint (validated when accepted; -1 should it not parse). */
function noteSize(note: string): number {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return -1;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
