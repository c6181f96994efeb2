/**
 * The agent detail view's entry point (H3a's first API, kept): verify one global-log entry, given
 * its index and bytes (or its EntryJson), optionally also its record signature under the agent's
 * key. Everything is done by fetch-verify.ts / verify-entry.ts; this only adapts the arguments.
 */
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { decodeRecord } from "../../shared/log/entry.js";
import { fetchAndVerifyEntry } from "./fetch-verify.js";
import type { EntryVerdict } from "./verify-entry.js";

/** `{ ok, reason, steps, facts }` (+ `step` when it failed): see verify-entry.ts. */
export type VerifyOutcome = EntryVerdict;

/** Decodes the base64url `x` of an Ed25519 JWK (AgentView.publicKey.x). */
export function publicKeyFromJwkX(x: string): Uint8Array {
  const std = x.replace(/-/g, "+").replace(/_/g, "/");
  return decodeBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}

// An EntryJson from the bytes alone: its fields are read from the bytes, so only the bytes are
// being checked (undecodable bytes pass through and fail the verifier's entry step).
function entryFromLeaf(index: number, leafBase64: string): unknown {
  try {
    const r = decodeRecord(decodeBase64(leafBase64));
    return { index, agentId: r.agentId, seq: r.seq, leaf: leafBase64, record: { kind: r.kind, timestamp: r.timestamp, payloadJson: r.payloadJson, signature: encodeBase64(r.signature) } };
  } catch {
    return { index, agentId: "", seq: 0, leaf: leafBase64, record: { kind: "", timestamp: 0, payloadJson: "", signature: "" } };
  }
}

/**
 * Fetches the log key, the latest signed checkpoint and the proof at its size, and verifies entry
 * `index`: give `entry` (EntryJson as /v1/log/entries and /v1/agents/:id/records serve it) or
 * `leafBase64` (its `leaf`).
 */
export function verifyEntryInclusion(e: { readonly index: number; readonly entry?: unknown; readonly leafBase64?: string; readonly agentPublicKey?: Uint8Array }): Promise<VerifyOutcome> {
  const entry = e.entry ?? (e.leafBase64 !== undefined ? entryFromLeaf(e.index, e.leafBase64) : undefined);
  return fetchAndVerifyEntry(e.index, { ...(entry === undefined ? {} : { entry }), ...(e.agentPublicKey === undefined ? {} : { agentPublicKey: e.agentPublicKey }) });
}
