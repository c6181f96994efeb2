import { z } from "zod";
import { base64ToBytes, bytesToBase64 } from "./base64.js";
import { encodeUtf8 } from "../encoding/utf8.js";
import { RECORD_LIMITS, type SealedRecord as LogRecord } from "../log/entry.js";

/**
 * A sealed record on the wire: one entry of an agent's own append-only log with the agent's Ed25519
 * signature, as JSON. Its bytes, signing input and leaf hash are defined by shared/log/entry.ts (the
 * same leaf in the agent's log and the global log); this is only the JSON carriage of those fields.
 * `seq` is the record's index in the agent's log (0, 1, 2, … without gaps), so the edge can tell a
 * replay (seq already acknowledged) from a gap (seq skipped) with no other state.
 */
export const agentIdSchema = z
  .string()
  .regex(/^ag_[0-9a-f]{32}$/, "agent id: ag_ followed by 32 lowercase hex digits");

export const sealedRecordSchema = z.object({
  agentId: agentIdSchema,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  kind: z.string().regex(/^[a-z0-9._-]{1,64}$/, "kind: 1-64 chars of a-z 0-9 . _ -"),
  /** When the agent sealed it, epoch milliseconds UTC. */
  timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /**
   * The payload as JSON text, exactly as signed: 1 … 65,536 bytes of UTF-8, as the entry encoding
   * counts them (a character is 1–4 bytes; `max` alone counts UTF-16 units and let up to 3× through).
   */
  payloadJson: z
    .string()
    .min(1)
    .max(RECORD_LIMITS.payloadMaxBytes)
    .refine((text) => encodeUtf8(text).length <= RECORD_LIMITS.payloadMaxBytes, {
      message: `payloadJson: at most ${RECORD_LIMITS.payloadMaxBytes} bytes of UTF-8`,
    }),
  /**
   * Ed25519 signature (64 bytes, canonical padded base64) over shared/log's recordSigningInput. The
   * last character carries 4 unused bits that must be zero ([AQgw]): the strict decoder refuses any
   * other, so the schema must too, or a record would pass validation and then fail to decode.
   */
  signature: z.string().regex(/^[A-Za-z0-9+/]{85}[AQgw]==$/, "signature: 64 bytes in canonical padded base64"),
});

export type WireRecord = z.infer<typeof sealedRecordSchema>;

/** The log's record (binary signature) from its wire form. Requires a schema-valid record. */
export function recordFromWire(record: WireRecord): LogRecord {
  const { agentId, seq, kind, timestamp, payloadJson } = record;
  return { agentId, seq, kind, timestamp, payloadJson, signature: base64ToBytes(record.signature) };
}

/** The wire form of a log record. */
export function recordToWire(record: LogRecord): WireRecord {
  const { agentId, seq, kind, timestamp, payloadJson } = record;
  return { agentId, seq, kind, timestamp, payloadJson, signature: bytesToBase64(record.signature) };
}
