/**
 * Verifies that one global-log entry is in the log as of a signed checkpoint, in the browser, with
 * the project's own code: shared/note + shared/checkpoint for the signature (verify-checkpoint.ts),
 * shared/log for the entry's canonical bytes, its RFC 6962 leaf hash and the inclusion proof — the
 * functions `becomingone-agent verify-proof` runs. Pure: the four texts/values in, a verdict out.
 *
 * The proof is checked against the root of the checkpoint whose signature verified, never against
 * the `root` the proof response carries (an edge could send a proof and a root that agree with each
 * other and with nothing signed).
 */
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { encodeHex } from "../../shared/encoding/hex.js";
import { parseCheckpoint } from "../../shared/checkpoint/checkpoint.js";
import type { EntryJson } from "../../shared/api/index.js";
import { decodeLogEntry, type LogEntry } from "../../shared/log/log-entry.js";
import { parseNote } from "../../shared/note/note.js";
import { LogError, RootMismatchError } from "../../shared/log/errors.js";
import { verifyInclusion } from "../../shared/log/proof-verify.js";
import { verifyRecordSignature } from "../../shared/log/record-seal.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { readEntry, readInclusionProof } from "./shapes.js";
import { verifyCheckpoint, type VerifiedCheckpoint, type VerifyStep, type VerifyStepId } from "./verify-checkpoint.js";

export interface EntryVerifyInput {
  /** GET /v1/log/key (text). */
  readonly keyText: string;
  /** GET /v1/log/checkpoint (text). */
  readonly checkpointNote: string;
  /** One element of GET /v1/log/entries' `entries` (parsed JSON, unchecked). */
  readonly entry: unknown;
  /** GET /v1/log/proof/inclusion?index=<entry.index>&size=<checkpoint size> (parsed JSON, unchecked). */
  readonly proof: unknown;
  /** When given, the checkpoint must be of this log (origin line). */
  readonly origin?: string;
  /** When given (32 bytes, e.g. from AgentView.publicKey.x), the record must be signed by this agent key. */
  readonly agentPublicKey?: Uint8Array;
}

/** What a verification established (or got as far as establishing), for display. */
export interface EntryFacts {
  readonly checkpoint?: VerifiedCheckpoint;
  readonly index?: number;
  /** Hex of SHA-256(0x00 ‖ entry bytes). */
  readonly leafHashHex?: string;
  /** Number of hashes in the inclusion proof. */
  readonly proofLength?: number;
}

/** `reason`: on success a one-line summary, on failure why (the first step that failed). */
export type EntryVerdict =
  | { readonly ok: true; readonly reason: string; readonly steps: readonly VerifyStep[]; readonly facts: EntryFacts }
  | { readonly ok: false; readonly step: VerifyStepId; readonly reason: string; readonly steps: readonly VerifyStep[]; readonly facts: EntryFacts };

const short = (hex: string) => `${hex.slice(0, 16)}…`;

/** Runs every step in order and stops at the first that fails, saying why. */
export function verifyEntry(input: EntryVerifyInput): EntryVerdict {
  const steps: VerifyStep[] = [];
  let facts: EntryFacts = {};
  const fail = (step: VerifyStepId, reason: string): EntryVerdict => ({ ok: false, step, reason, steps, facts });

  // 1. The checkpoint's signature under the log key, then its body.
  const cp = verifyCheckpoint(input.keyText, input.checkpointNote, input.origin);
  steps.push(...cp.steps);
  if (!cp.ok) return fail(cp.step, cp.reason);
  const checkpoint = cp.checkpoint;
  facts = { checkpoint };

  // 2. The entry: its bytes must be a well-formed entry of the type shown (a record, a key entry or
  //    an agent checkpoint), and the fields shown beside them must be the ones those bytes hold
  //    (otherwise the page would display one entry and prove another).
  const entry = readEntry(input.entry);
  if (!entry.ok) return fail("entry", entry.reason);
  const e = entry.value;
  facts = { ...facts, index: e.index };
  let leaf: Uint8Array;
  try {
    leaf = decodeBase64(e.leaf);
  } catch {
    return fail("entry", "the entry's bytes are not standard base64");
  }
  let decoded: LogEntry;
  try {
    decoded = decodeLogEntry(leaf);
  } catch (err) {
    return fail("entry", `the entry's bytes are not a well-formed ${NOUN[e.type]}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (decoded.type !== e.type) return fail("entry", `the entry is shown as ${A_NOUN[e.type]} but its bytes are ${A_NOUN[decoded.type]}`);
  const mismatch = shownMismatch(e, decoded);
  if (mismatch !== undefined) return fail("entry", `the entry's ${mismatch} shown differs from the ${mismatch} in its bytes`);
  steps.push({ id: "entry", detail: `entry ${e.index}: ${describeEntry(decoded)}, ${leaf.length} bytes` });

  // 3. The leaf hash: recomputed from the bytes, it must be the leaf the proof is about.
  const leafHash = hashLeaf(leaf);
  const leafHex = encodeHex(leafHash);
  facts = { ...facts, leafHashHex: leafHex };
  const proof = readInclusionProof(input.proof);
  if (!proof.ok) return fail("inclusion", proof.reason);
  const p = proof.value;
  facts = { ...facts, proofLength: p.proof.length };
  if (!bytesEqual(leafHash, p.leafHash)) {
    return fail("leaf-hash", `entry bytes do not hash to the proven leaf: they hash to ${short(leafHex)}, the proof is for ${short(encodeHex(p.leafHash))}`);
  }
  steps.push({ id: "leaf-hash", detail: `leaf hash SHA-256(0x00 ‖ entry) = ${leafHex}` });

  // 4. The proof must be for this leaf in the tree the checkpoint signs.
  if (p.treeSize !== checkpoint.size) return fail("proof-size", `proof is for size ${p.treeSize} but the checkpoint is size ${checkpoint.size}`);
  steps.push({ id: "proof-size", detail: `proof is for the checkpoint's size ${checkpoint.size}` });
  if (p.leafIdx !== e.index) return fail("proof-index", `proof is for leaf ${p.leafIdx} but the entry is leaf ${e.index}`);
  steps.push({ id: "proof-index", detail: `proof is for leaf ${e.index}` });

  // 5. RFC 9162 §2.1.3.2 against the signed root.
  try {
    verifyInclusion(leafHash, e.index, checkpoint.size, p.proof, checkpoint.root);
  } catch (err) {
    if (err instanceof RootMismatchError) {
      return fail("inclusion", `proof does not lead to the checkpoint root: it leads to ${short(encodeHex(err.calculated))}, the signed root is ${short(encodeHex(checkpoint.root))}`);
    }
    if (err instanceof LogError) return fail("inclusion", `the proof is malformed (${err.code}): ${err.message}`);
    throw err;
  }
  steps.push({ id: "inclusion", detail: `${p.proof.length}-hash inclusion proof leads to the signed root ${checkpoint.rootBase64}` });

  // 6. Optionally, the agent sealed it (its Ed25519 key over the record's signing input); records only.
  const record = decoded.type === "record" ? decoded.record : undefined;
  if (input.agentPublicKey !== undefined && record !== undefined) {
    if (!verifyRecordSignature(record, input.agentPublicKey)) return fail("record-signature", `the record's signature does not verify with the key of agent ${record.agentId}`);
    steps.push({ id: "record-signature", detail: `record signed by agent ${record.agentId}'s key` });
  }
  const signed = input.agentPublicKey !== undefined && record !== undefined ? ", sealed by the agent's key" : "";
  return { ok: true, reason: `entry ${e.index} is in the log of ${checkpoint.size} entries under the signed checkpoint${signed}`, steps, facts };
}

const NOUN: Record<LogEntry["type"], string> = { record: "record", key: "key entry", "agent-checkpoint": "agent checkpoint" };
const A_NOUN: Record<LogEntry["type"], string> = { record: "a record", key: "a key entry", "agent-checkpoint": "an agent checkpoint" };

/** The first field shown that differs from what the entry's bytes hold, if any. */
function shownMismatch(e: EntryJson, decoded: LogEntry): string | undefined {
  if (e.type === "record" && decoded.type === "record") {
    const record = decoded.record;
    if (record.agentId !== e.agentId) return "agentId";
    if (record.seq !== e.seq) return "seq";
    if (record.kind !== e.record.kind) return "kind";
    if (record.timestamp !== e.record.timestamp) return "timestamp";
    if (record.payloadJson !== e.record.payloadJson) return "payload";
    if (e.record.signature !== encodeBase64(record.signature)) return "signature";
    return undefined;
  }
  if (e.type === "key" && decoded.type === "key") {
    if (decoded.agentId !== e.agentId) return "agentId";
    if (decoded.event !== e.key.event) return "event";
    if (encodeBase64(decoded.publicKey) !== e.key.publicKey) return "public key";
    if (decoded.timestamp !== e.key.timestamp) return "timestamp";
    return undefined;
  }
  if (e.type === "agent-checkpoint" && decoded.type === "agent-checkpoint") {
    if (decoded.agentId !== e.agentId) return "agentId";
    if (decoded.note !== e.checkpoint.note) return "note";
    if (noteSize(decoded.note) !== e.checkpoint.size) return "size";
    return undefined;
  }
  return "type";
}

/** The size line of an agent's signed checkpoint note, or undefined when it does not parse. */
function noteSize(note: string): number | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return undefined;
  }
}

function describeEntry(entry: LogEntry): string {
  switch (entry.type) {
    case "record":
      return `${entry.record.kind} record ${entry.record.seq} of ${entry.record.agentId}`;
    case "key":
      return `key entry (${entry.event}) of ${entry.agentId}`;
    case "agent-checkpoint":
      return `checkpoint of ${entry.agentId}'s own log (size ${noteSize(entry.note) ?? "?"})`;
  }
}
