/**
 * The log routes' JSON as the browser receives it, checked by hand: the answers are untrusted input
 * (a proxy or a compromised edge may send anything), and zod would add tens of KB to the bundle for
 * two small shapes. Each reader returns the typed value or a sentence saying what is wrong.
 */
import type { EntryJson, RecordEntryJson } from "../../shared/api/index.js";
import { Base64Error, decodeBase64 } from "../../shared/encoding/base64.js";

export type { EntryJson, RecordEntryJson };

/** `GET /v1/log/proof/inclusion` (shared/log/proof-document.ts, plus agentId and seq). */
export interface InclusionProofJson {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly root: string;
  readonly leafHash: string;
  readonly proof: readonly string[];
}

/** The decoded byte fields of an inclusion proof. */
export interface InclusionProofBytes {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Longest proof accepted: a tree of 2^53 leaves needs 53 hashes; a longer array is hostile. */
const MAX_PROOF_HASHES = 64;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Reads an entry object; the byte fields stay base64 text (decoded by the verifier). */
export function readEntry(v: unknown): Read<RecordEntryJson> {
  if (!isRecord(v)) return { ok: false, reason: "the entry is not a JSON object" };
  const { type, index, agentId, seq, leaf, record } = v;
  if (type !== undefined && type !== "record") return { ok: false, reason: `the entry is ${typeof type === "string" ? `a ${type.slice(0, 32)}` : "an unknown"} entry, not a record` };
  if (!isCount(index)) return { ok: false, reason: "the entry's index is not a non-negative integer" };
  if (typeof agentId !== "string") return { ok: false, reason: "the entry's agentId is not a string" };
  if (!isCount(seq)) return { ok: false, reason: "the entry's seq is not a non-negative integer" };
  if (typeof leaf !== "string") return { ok: false, reason: "the entry's leaf is not a base64 string" };
  if (!isRecord(record)) return { ok: false, reason: "the entry's record is not a JSON object" };
  const { kind, timestamp, payloadJson, signature } = record;
  if (typeof kind !== "string" || !isCount(timestamp) || typeof payloadJson !== "string" || typeof signature !== "string") {
    return { ok: false, reason: "the entry's record lacks kind, timestamp, payloadJson or signature" };
  }
  return { ok: true, value: { type: "record", index, agentId, seq, leaf, record: { kind, timestamp, payloadJson, signature } } };
}

function bytes(text: unknown, what: string): Read<Uint8Array> {
  if (typeof text !== "string") return { ok: false, reason: `${what} is not a base64 string` };
  try {
    return { ok: true, value: decodeBase64(text) };
  } catch (err) {
    return { ok: false, reason: `${what} is not standard base64 (${err instanceof Base64Error ? err.reason : "invalid"})` };
  }
}

/** Reads an inclusion proof document and decodes its hashes (their lengths are the verifier's job). */
export function readInclusionProof(v: unknown): Read<InclusionProofBytes> {
  if (!isRecord(v)) return { ok: false, reason: "the proof is not a JSON object" };
  const { leafIdx, treeSize, leafHash, proof } = v;
  if (!isCount(leafIdx)) return { ok: false, reason: "the proof's leafIdx is not a non-negative integer" };
  if (!isCount(treeSize)) return { ok: false, reason: "the proof's treeSize is not a non-negative integer" };
  const leaf = bytes(leafHash, "the proof's leafHash");
  if (!leaf.ok) return leaf;
  if (!Array.isArray(proof)) return { ok: false, reason: "the proof's path is not an array" };
  if (proof.length > MAX_PROOF_HASHES) return { ok: false, reason: `the proof's path has ${proof.length} hashes, more than any log of 2^53 leaves needs` };
  const path: Uint8Array[] = [];
  for (let i = 0; i < proof.length; i++) {
    const h = bytes(proof[i], `proof hash ${i}`);
    if (!h.ok) return h;
    path.push(h.value);
  }
  return { ok: true, value: { leafIdx, treeSize, leafHash: leaf.value, proof: path } };
}
