/**
 * The edge's JSON answers the audit reads, parsed by hand and strictly: every field the audit uses
 * is checked for type, range and size (a hostile edge chooses all of them). Fields the audit does
 * not use are ignored. Hashes are decoded here; nothing here is trusted until checked against a
 * signed root by chain.ts.
 */
import { decodeBase64 } from "../encoding/base64.js";
import { KEY_EVENTS, type KeyEvent } from "../log/log-entry.js";
import { AuditFailure } from "./audit-steps.js";

/** Most hashes in a proof (a tree of 2^53 leaves needs 53; consistency at most twice that). */
const MAX_PROOF_HASHES = 128;
/** Most key entries of one agent the audit reads. */
export const MAX_KEY_ENTRIES = 64;
/** Largest entry (a record is at most about 66 KB). */
const MAX_LEAF_BYTES = 70_000;
/** Largest agent checkpoint note (contract: 4096). */
const MAX_NOTE_CHARS = 4096;

export interface InclusionDocument {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly proof: readonly Uint8Array[];
}

export interface ConsistencyDocument {
  readonly size1: number;
  readonly size2: number;
  readonly proof: readonly Uint8Array[];
}

export interface AgentCheckpointDocument {
  readonly agentId: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  /** Global index of the agent checkpoint's 0x02 entry. */
  readonly index: number;
}

/** The key events of the log (shared/log/log-entry.ts). */
export type KeyEventName = KeyEvent;

export interface KeyEntryDocument {
  readonly event: KeyEventName;
  readonly publicKey: Uint8Array;
  readonly index: number;
  readonly at: number;
}

export interface AgentKeysDocument {
  readonly agentId: string;
  readonly keys: readonly KeyEntryDocument[];
}

function fail(what: string, why: string): AuditFailure {
  return new AuditFailure(`${what}: ${why}`);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail(what, "is not a JSON object");
  return value as Record<string, unknown>;
}

function count(o: Record<string, unknown>, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw fail(what, `${field} is not a non-negative integer`);
  return v;
}

function text(o: Record<string, unknown>, field: string, what: string, max: number): string {
  const v = o[field];
  if (typeof v !== "string" || v.length === 0 || v.length > max) throw fail(what, `${field} is not a string of 1–${max} characters`);
  return v;
}

function bytes(value: unknown, what: string, field: string, length?: number, max = 1024): Uint8Array {
  if (typeof value !== "string" || value.length > Math.ceil(max / 3) * 4) throw fail(what, `${field} is not a base64 string`);
  let out: Uint8Array;
  try {
    out = decodeBase64(value);
  } catch {
    throw fail(what, `${field} is not standard base64`);
  }
  if (length !== undefined && out.length !== length) throw fail(what, `${field} is ${out.length} bytes, want ${length}`);
  return out;
}

function proofHashes(o: Record<string, unknown>, what: string): Uint8Array[] {
  const v = o["proof"];
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_PROOF_HASHES) throw fail(what, `proof is not an array of at most ${MAX_PROOF_HASHES} hashes`);
  return v.map((h, i) => bytes(h, what, `proof[${i}]`, 32));
}

export function parseInclusionDocument(value: unknown, what = "inclusion proof"): InclusionDocument {
  const o = object(value, what);
  return { leafIdx: count(o, "leafIdx", what), treeSize: count(o, "treeSize", what), proof: proofHashes(o, what) };
}

export function parseConsistencyDocument(value: unknown, what = "consistency proof"): ConsistencyDocument {
  const o = object(value, what);
  return { size1: count(o, "size1", what), size2: count(o, "size2", what), proof: proofHashes(o, what) };
}

/** The bytes of entry `index` from a GET /v1/log/entries page (which must hold it). */
export function parseEntryLeaf(value: unknown, index: number): Uint8Array {
  const leaf = parseEntryLeaves(value, index, index + 1).get(index);
  if (leaf === undefined) throw fail(`entries page at ${index}`, `has no entry ${index}`);
  return leaf;
}

/** The entries of a GET /v1/log/entries page asked for [start, end): index → bytes (others refused). */
export function parseEntryLeaves(value: unknown, start: number, end: number): Map<number, Uint8Array> {
  const what = `entries page at ${start}`;
  const o = object(value, what);
  const entries = o["entries"];
  if (!Array.isArray(entries) || entries.length > Math.min(256, end - start)) throw fail(what, `entries is not an array of at most ${Math.min(256, end - start)}`);
  const out = new Map<number, Uint8Array>();
  for (const e of entries) {
    const entry = object(e, what);
    const index = count(entry, "index", what);
    if (index < start || index >= end || out.has(index)) throw fail(what, `entry index ${index} is outside [${start}, ${end}) or repeated`);
    out.set(index, bytes(entry["leaf"], what, "leaf", undefined, MAX_LEAF_BYTES));
  }
  return out;
}

export function parseAgentCheckpointDocument(value: unknown): AgentCheckpointDocument {
  const what = "agent checkpoint answer";
  const o = object(value, what);
  return {
    agentId: text(o, "agentId", what, 128),
    size: count(o, "size", what),
    root: bytes(o["root"], what, "root", 32),
    note: text(o, "note", what, MAX_NOTE_CHARS),
    index: count(o, "index", what),
  };
}


export function parseAgentKeysDocument(value: unknown): AgentKeysDocument {
  const what = "agent keys answer";
  const o = object(value, what);
  const agentId = text(o, "agentId", what, 128);
  const list = o["keys"];
  if (!Array.isArray(list) || list.length > MAX_KEY_ENTRIES) throw fail(what, `keys is not an array of at most ${MAX_KEY_ENTRIES}`);
  const keys = list.map((k, i): KeyEntryDocument => {
    const entry = object(k, `${what} keys[${i}]`);
    const event = entry["event"];
    if (typeof event !== "string" || !(KEY_EVENTS as readonly string[]).includes(event)) throw fail(what, `keys[${i}].event is not enrolled, approved or revoked`);
    return {
      event: event as KeyEventName,
      publicKey: bytes(entry["publicKey"], what, `keys[${i}].publicKey`, 32),
      index: count(entry, "index", `${what} keys[${i}]`),
      at: count(entry, "at", `${what} keys[${i}]`),
    };
  });
  return { agentId, keys };
}
