/**
 * Canonical bytes of a log entry: an agent's sealed record. The same bytes are the leaf data in the
 * agent's own log and in the edge's global log, so a record has one leaf hash in both and an auditor
 * can recompute it from the record alone. Byte layout (all integers big-endian; docs/log.md):
 *
 *   u8   0x01                      entry type: agent record, version 1
 *   u16  n, n bytes                agentId, printable ASCII 0x21–0x7E, 1–128 bytes
 *   u64  seq                       per-agent sequence number, 0 … 2^53−1
 *   u8   n, n bytes                kind, [a-z0-9._-], 1–64 bytes
 *   u64  timestamp                 UTC milliseconds since the Unix epoch, 0 … 2^53−1
 *   u32  n, n bytes                payload: JSON text as UTF-8, 0 < n ≤ 65,536, must parse as JSON
 *   64 bytes                       Ed25519 signature over the signing input (below)
 *
 * Signing input = "becomingone/record/v1" ‖ 0x00 ‖ every byte above except the signature.
 *
 * A length-prefixed binary form rather than canonical JSON: every field has exactly one encoding,
 * a third party needs no JSON canonicalizer (number formatting, key order, escapes) to recompute a
 * hash, and the payload is carried as the exact JSON text the agent signed, never re-serialized.
 */
import { concatBytes } from "../encoding/bytes.js";
import { decodeUtf8, encodeUtf8, isWellFormedText } from "../encoding/utf8.js";
import { LogError } from "./errors.js";
import { hashLeaf } from "./rfc6962.js";

/** First byte of an agent record entry (version 1). Other entry types must use other tags. */
export const RECORD_TAG_V1 = 0x01;

/** Domain separation for the record signature, so it cannot be replayed as any other signature. */
export const RECORD_SIGNATURE_CONTEXT = "becomingone/record/v1";

export const RECORD_LIMITS = {
  agentIdMaxBytes: 128,
  kindMaxBytes: 64,
  payloadMaxBytes: 65_536,
  signatureBytes: 64,
} as const;

/** What an agent seals: the signed fields of a record. */
export interface RecordFields {
  /** The agent's id: printable ASCII without spaces, 1–128 bytes. */
  readonly agentId: string;
  /** Per-agent sequence number (0, 1, 2, …). */
  readonly seq: number;
  /** Record kind, e.g. "memory", "collapse", "digest": [a-z0-9._-], 1–64 bytes. */
  readonly kind: string;
  /** UTC milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** The payload as JSON text, exactly as signed (e.g. JSON.stringify(payload)). */
  readonly payloadJson: string;
}

/** A record with the agent's Ed25519 signature over `recordSigningInput(fields)`. */
export interface SealedRecord extends RecordFields {
  readonly signature: Uint8Array;
}

function invalid(field: string, reason: string): LogError {
  return new LogError("ENTRY_INVALID", `record ${field} ${reason}`, { field, reason });
}

const KIND = /^[a-z0-9._-]{1,64}$/;
const AGENT_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Checks every field against the encoding's rules.
 * @throws LogError ENTRY_INVALID with details { field, reason }
 */
export function validateRecordFields(fields: RecordFields): void {
  if (typeof fields.agentId !== "string" || !AGENT_ID.test(fields.agentId)) {
    throw invalid("agentId", "must be 1–128 printable ASCII characters without spaces");
  }
  if (!Number.isSafeInteger(fields.seq) || fields.seq < 0) throw invalid("seq", "must be a non-negative safe integer");
  if (typeof fields.kind !== "string" || !KIND.test(fields.kind)) throw invalid("kind", "must match [a-z0-9._-]{1,64}");
  if (!Number.isSafeInteger(fields.timestamp) || fields.timestamp < 0) {
    throw invalid("timestamp", "must be non-negative integer UTC milliseconds");
  }
  if (typeof fields.payloadJson !== "string" || !isWellFormedText(fields.payloadJson)) {
    throw invalid("payloadJson", "must be well-formed Unicode text");
  }
  const payloadBytes = encodeUtf8(fields.payloadJson).length;
  if (payloadBytes === 0 || payloadBytes > RECORD_LIMITS.payloadMaxBytes) {
    throw invalid("payloadJson", `must be 1–${RECORD_LIMITS.payloadMaxBytes} bytes of UTF-8, got ${payloadBytes}`);
  }
  try {
    JSON.parse(fields.payloadJson);
  } catch {
    throw invalid("payloadJson", "is not valid JSON");
  }
}

function u16(n: number): Uint8Array {
  return new Uint8Array([n >>> 8, n & 0xff]);
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  const view = new DataView(b.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n % 2 ** 32);
  return b;
}

// The record's bytes without its signature: the common prefix of the entry and the signing input.
function encodeFields(fields: RecordFields): Uint8Array {
  validateRecordFields(fields);
  const agentId = encodeUtf8(fields.agentId);
  const kind = encodeUtf8(fields.kind);
  const payload = encodeUtf8(fields.payloadJson);
  return concatBytes(
    new Uint8Array([RECORD_TAG_V1]),
    u16(agentId.length),
    agentId,
    u64(fields.seq),
    new Uint8Array([kind.length]),
    kind,
    u64(fields.timestamp),
    u32(payload.length),
    payload,
  );
}

/**
 * The bytes an agent signs for a record: RECORD_SIGNATURE_CONTEXT ‖ 0x00 ‖ fields.
 * @throws LogError ENTRY_INVALID
 */
export function recordSigningInput(fields: RecordFields): Uint8Array {
  return concatBytes(encodeUtf8(RECORD_SIGNATURE_CONTEXT), new Uint8Array([0]), encodeFields(fields));
}

/**
 * The canonical entry bytes of a sealed record: the leaf data in both the agent log and the global log.
 * @throws LogError ENTRY_INVALID
 */
export function encodeRecord(record: SealedRecord): Uint8Array {
  if (!(record.signature instanceof Uint8Array) || record.signature.length !== RECORD_LIMITS.signatureBytes) {
    throw invalid("signature", `must be ${RECORD_LIMITS.signatureBytes} bytes`);
  }
  return concatBytes(encodeFields(record), record.signature);
}

/**
 * Parses canonical entry bytes back into a record. Strict: wrong tag, bad lengths, trailing bytes or
 * any field breaking the rules are rejected, so decode(encode(r)) = r and encode(decode(b)) = b.
 * Does not check the signature (see verifyRecordSignature).
 * @throws LogError ENTRY_INVALID
 */
export function decodeRecord(bytes: Uint8Array): SealedRecord {
  // Checks each field on its bytes as it is read (the same rules as validateRecordFields, without
  // re-encoding anything): an auditor decodes every entry of a log, so this is a hot path.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number, field: string) => {
    if (pos + n > bytes.length) throw invalid(field, `truncated at byte ${pos} (needs ${n} more, ${bytes.length - pos} left)`);
  };
  const ascii = (n: number, field: string, allowed: (c: number) => boolean, rule: string) => {
    need(n, field);
    let s = "";
    for (let i = pos; i < pos + n; i++) {
      const c = bytes[i]!;
      if (!allowed(c)) throw invalid(field, rule);
      s += String.fromCharCode(c);
    }
    pos += n;
    return s;
  };
  const uint64 = (field: string) => {
    need(8, field);
    const high = view.getUint32(pos);
    if (high >= 2 ** 21) throw invalid(field, "exceeds 2^53 − 1");
    const value = high * 2 ** 32 + view.getUint32(pos + 4);
    pos += 8;
    return value;
  };
  need(1, "tag");
  if (bytes[0] !== RECORD_TAG_V1) throw invalid("tag", `is ${bytes[0]}, want ${RECORD_TAG_V1} (agent record v1)`);
  pos = 1;
  need(2, "agentId");
  const idLength = view.getUint16(pos);
  pos += 2;
  const idRule = "must be 1–128 printable ASCII characters without spaces";
  if (idLength === 0 || idLength > RECORD_LIMITS.agentIdMaxBytes) throw invalid("agentId", idRule);
  const agentId = ascii(idLength, "agentId", (c) => c >= 0x21 && c <= 0x7e, idRule);
  const seq = uint64("seq");
  need(1, "kind");
  const kindLength = bytes[pos++]!;
  const kindRule = "must match [a-z0-9._-]{1,64}";
  if (kindLength === 0 || kindLength > RECORD_LIMITS.kindMaxBytes) throw invalid("kind", kindRule);
  const kind = ascii(kindLength, "kind", isKindByte, kindRule);
  const timestamp = uint64("timestamp");
  need(4, "payloadJson");
  const payloadLength = view.getUint32(pos);
  pos += 4;
  if (payloadLength === 0 || payloadLength > RECORD_LIMITS.payloadMaxBytes) {
    throw invalid("payloadJson", `must be 1–${RECORD_LIMITS.payloadMaxBytes} bytes of UTF-8, got ${payloadLength}`);
  }
  need(payloadLength, "payloadJson");
  // Fatal decoding: valid UTF-8 has no lone surrogates, so the text re-encodes to the same bytes.
  const payloadJson = decodeUtf8(bytes.subarray(pos, pos + payloadLength));
  if (payloadJson === undefined) throw invalid("payloadJson", "is not valid UTF-8");
  try {
    JSON.parse(payloadJson);
  } catch {
    throw invalid("payloadJson", "is not valid JSON");
  }
  pos += payloadLength;
  need(RECORD_LIMITS.signatureBytes, "signature");
  const signature = bytes.slice(pos, pos + RECORD_LIMITS.signatureBytes);
  pos += RECORD_LIMITS.signatureBytes;
  if (pos !== bytes.length) throw invalid("bytes", `has ${bytes.length - pos} trailing bytes`);
  return { agentId, seq, kind, timestamp, payloadJson, signature };
}

// [a-z0-9._-]
function isKindByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d;
}

/**
 * The RFC 6962 leaf hash of a record: SHA-256(0x00 ‖ encodeRecord(record)).
 * @throws LogError ENTRY_INVALID
 */
export function recordLeafHash(record: SealedRecord): Uint8Array {
  return hashLeaf(encodeRecord(record));
}
