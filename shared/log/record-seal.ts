/** Sealing a record: the agent's Ed25519 signature over its canonical signing input. */
import { ed25519 } from "@noble/curves/ed25519.js";
import { recordSigningInput, type RecordFields, type SealedRecord } from "./entry.js";

/**
 * Signs a record with the agent's Ed25519 secret key (the 32-byte seed).
 * @throws LogError ENTRY_INVALID when a field breaks the encoding rules
 */
export function sealRecord(fields: RecordFields, secretKey: Uint8Array): SealedRecord {
  const { agentId, seq, kind, timestamp, payloadJson } = fields;
  const clean = { agentId, seq, kind, timestamp, payloadJson };
  const signature = ed25519.sign(recordSigningInput(clean), secretKey);
  return { ...clean, signature };
}

/**
 * True when `record.signature` is the Ed25519 signature (RFC 8032, strict: no ZIP-215 leniency) of
 * the record's signing input under `publicKey` (32 bytes). Never throws: malformed input is false.
 */
export function verifyRecordSignature(record: SealedRecord, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(record.signature, recordSigningInput(record), publicKey, { zip215: false });
  } catch {
    return false;
  }
}
