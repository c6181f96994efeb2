/**
 * Checks in the browser that a log entry is in the fleet's global log, with the project's own
 * shared/log, shared/note and shared/checkpoint code (the same the CLI's verify-proof runs):
 *   1. the signed checkpoint's note verifies under the log key (GET /v1/log/key, /v1/log/checkpoint);
 *   2. the leaf hash is computed here from the entry's bytes, never taken from the server;
 *   3. the inclusion proof for the checkpoint's size folds that leaf hash to the checkpoint's root
 *      (not to the root the proof response carries).
 * Optionally 4. the entry decodes as an agent record signed by the given agent key.
 *
 * `verifyInclusionMaterial` is pure (tests and the log view can feed it tampered material);
 * `verifyEntryInclusion` fetches the material and calls it.
 */
import { openCheckpoint } from "../../shared/checkpoint/signed-checkpoint.js";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { decodeRecord } from "../../shared/log/entry.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { verifyInclusion } from "../../shared/log/proof-verify.js";
import { verifyRecordSignature } from "../../shared/log/record-seal.js";
import { parseVerifierKey } from "../../shared/note/key.js";
import { apiJson, apiText } from "../api/client.js";

export interface InclusionProofJson {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly proof: readonly string[];
}

export interface InclusionMaterial {
  /** The log's note verifier key, `name+hash+base64`. */
  readonly keyText: string;
  /** The signed checkpoint note. */
  readonly checkpointNote: string;
  /** The inclusion proof of `index` in the tree of the checkpoint's size. */
  readonly proof: InclusionProofJson;
  /** The entry's bytes (the leaf data). */
  readonly leaf: Uint8Array;
  readonly index: number;
  /** When given, the entry must be an agent record signed by this Ed25519 key (32 bytes). */
  readonly agentPublicKey?: Uint8Array;
}

export interface VerifyOutcome {
  readonly ok: boolean;
  /** What was shown, or why it failed (the step and the error code). */
  readonly reason: string;
  readonly checkpoint: { readonly origin: string; readonly size: number; readonly root: Uint8Array } | null;
}

function describe(step: string, error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${step}: ${typeof code === "string" ? `${code}: ` : ""}${error.message}`;
  }
  return `${step}: ${String(error)}`;
}

export function verifyInclusionMaterial(m: InclusionMaterial): VerifyOutcome {
  let checkpoint: VerifyOutcome["checkpoint"];
  try {
    const verifier = parseVerifierKey(m.keyText.trim());
    const opened = openCheckpoint(m.checkpointNote, [verifier]);
    checkpoint = { origin: opened.checkpoint.origin, size: opened.checkpoint.size, root: opened.checkpoint.root };
  } catch (error) {
    return { ok: false, reason: describe("checkpoint signature", error), checkpoint: null };
  }
  if (m.index >= checkpoint.size) {
    return { ok: false, reason: `not yet covered: entry ${m.index} is beyond the latest checkpoint's ${checkpoint.size} entries`, checkpoint };
  }
  if (m.proof.leafIdx !== m.index || m.proof.treeSize !== checkpoint.size) {
    return { ok: false, reason: `inclusion proof: it is for entry ${m.proof.leafIdx} in a tree of ${m.proof.treeSize}, not entry ${m.index} in ${checkpoint.size}`, checkpoint };
  }
  try {
    const path = m.proof.proof.map((h) => decodeBase64(h));
    verifyInclusion(hashLeaf(m.leaf), m.index, checkpoint.size, path, checkpoint.root);
  } catch (error) {
    return { ok: false, reason: describe("inclusion proof", error), checkpoint };
  }
  if (m.agentPublicKey !== undefined) {
    try {
      const record = decodeRecord(m.leaf);
      if (!verifyRecordSignature(record, m.agentPublicKey)) {
        return { ok: false, reason: "record signature: does not verify under the agent's key", checkpoint };
      }
    } catch (error) {
      return { ok: false, reason: describe("record", error), checkpoint };
    }
  }
  const signed = m.agentPublicKey !== undefined ? ", signed by the agent's key" : "";
  return { ok: true, reason: `entry ${m.index} is in the log of ${checkpoint.size} entries under the signed checkpoint${signed}`, checkpoint };
}

/** Decodes the base64url `x` of an Ed25519 JWK. */
export function publicKeyFromJwkX(x: string): Uint8Array {
  const std = x.replace(/-/g, "+").replace(/_/g, "/");
  return decodeBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}

/**
 * Fetches the log key, the latest signed checkpoint and the proof for its size, then verifies.
 * `leafBase64` is the entry's `leaf` as /v1/log/entries (and /v1/agents/:id/records) serve it.
 */
export async function verifyEntryInclusion(entry: { readonly index: number; readonly leafBase64: string; readonly agentPublicKey?: Uint8Array }): Promise<VerifyOutcome> {
  let leaf: Uint8Array;
  try {
    leaf = decodeBase64(entry.leafBase64);
  } catch (error) {
    return { ok: false, reason: describe("entry", error), checkpoint: null };
  }
  let keyText: string;
  let checkpointNote: string;
  try {
    [keyText, checkpointNote] = await Promise.all([apiText("/v1/log/key"), apiText("/v1/log/checkpoint")]);
  } catch (error) {
    return { ok: false, reason: describe("fetching the checkpoint", error), checkpoint: null };
  }
  // The size to ask the proof for comes from the checkpoint we verify against, so open it first.
  const first = verifyInclusionMaterial({ keyText, checkpointNote, proof: { leafIdx: entry.index, treeSize: 0, proof: [] }, leaf, index: entry.index });
  if (first.checkpoint === null || entry.index >= first.checkpoint.size) return first;
  let proof: InclusionProofJson;
  try {
    proof = await apiJson<InclusionProofJson>("GET", `/v1/log/proof/inclusion?index=${entry.index}&size=${first.checkpoint.size}`);
  } catch (error) {
    return { ok: false, reason: describe("fetching the proof", error), checkpoint: first.checkpoint };
  }
  const material: InclusionMaterial = { keyText, checkpointNote, proof, leaf, index: entry.index };
  return verifyInclusionMaterial(entry.agentPublicKey === undefined ? material : { ...material, agentPublicKey: entry.agentPublicKey });
}
