import { decodeRecord, encodeRecord, recordSigningInput, type RecordFields, type SealedRecord } from "../../shared/log/entry.js";

export type { RecordFields, SealedRecord };

/** A JSON value as sealed into the ledger. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * What the runtime seals. Critical kinds are kept even when the disk budget for ordinary records is
 * spent (they use the reserve); non-critical kinds are refused first (docs/agent.md, "Disk use").
 */
export const RECORD_KINDS = ["memory.signature", "sync.collapse", "sync.dissipation", "witness.report", "state.digest"] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
export const CRITICAL_KINDS: ReadonlySet<RecordKind> = new Set<RecordKind>(["memory.signature", "sync.collapse", "sync.dissipation"]);

/**
 * Seals a record in shared/log's canonical entry encoding. The frame payload on disk is exactly
 * `encodeRecord(record)`: the leaf data of the agent's Merkle log and, once the edge accepts the
 * record, of the global log. Signed through `sign` (node:crypto Ed25519, deterministic, so the same
 * bytes shared/log's noble-based sealRecord would produce).
 * @throws LogError ENTRY_INVALID when a field breaks the encoding rules (e.g. payload over 64 KiB)
 */
export function sealRecord(fields: RecordFields, sign: (message: Uint8Array) => Uint8Array): { record: SealedRecord; leaf: Uint8Array } {
  const signature = sign(recordSigningInput(fields));
  const record: SealedRecord = { ...fields, signature };
  return { record, leaf: encodeRecord(record) };
}

/** Parses a frame payload; returns a reason string when it is not a well-formed record. */
export function parseSealedRecord(payload: Uint8Array): SealedRecord | string {
  try {
    return decodeRecord(payload);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The payload a record carries, parsed (records hold the exact JSON text that was signed). */
export function recordPayload(record: SealedRecord): unknown {
  return JSON.parse(record.payloadJson);
}

export { encodeRecord };
