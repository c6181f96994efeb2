/**
 * Every kind of leaf the global log holds, by its first byte (all integers big-endian; docs/log.md):
 *
 *   0x01 record             an agent's sealed record (entry.ts), the same bytes as in its own log
 *   0x02 agent checkpoint   u16 n, agentId (printable ASCII) ‖ u32 n, the agent's signed checkpoint
 *                           note (UTF-8, ≤ 4096 bytes) exactly as the edge accepted it
 *   0x03 key event          u8 event (1 enrolled, 2 approved, 3 revoked) ‖ u16 n, agentId ‖
 *                           32-byte Ed25519 public key ‖ u64 timestamp (UTC ms, < 2^53)
 *
 * A log of logs: each accepted agent checkpoint is committed to the global log, so proving a record
 * in its agent's log against a signed agent checkpoint, and that checkpoint in the global log,
 * chains the agent's own signature to the coordinator's. Key events put the keys in the log, so an
 * auditor learns which key was valid when from the log itself.
 */
import { concatBytes } from "../encoding/bytes.js";
import { decodeUtf8, encodeUtf8 } from "../encoding/utf8.js";
import { decodeRecord, encodeRecord, RECORD_TAG_V1, type SealedRecord } from "./entry.js";
import { LogError } from "./errors.js";

export const AGENT_CHECKPOINT_TAG = 0x02;
export const KEY_ENTRY_TAG = 0x03;
/** Longest agent checkpoint note in an entry (and on the wire), bytes of UTF-8. */
export const AGENT_CHECKPOINT_NOTE_MAX_BYTES = 4096;

export type KeyEvent = "enrolled" | "approved" | "revoked";
export const KEY_EVENTS: readonly KeyEvent[] = ["enrolled", "approved", "revoked"];

export interface AgentCheckpointEntry {
  readonly agentId: string;
  /** The agent's signed checkpoint note, verbatim. */
  readonly note: string;
}

export interface KeyEntry {
  readonly event: KeyEvent;
  readonly agentId: string;
  /** The agent's Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** When the edge recorded the event, UTC ms. */
  readonly timestamp: number;
}

export type LogEntry =
  | { readonly type: "record"; readonly record: SealedRecord }
  | ({ readonly type: "agent-checkpoint" } & AgentCheckpointEntry)
  | ({ readonly type: "key" } & KeyEntry);

export type LogEntryType = LogEntry["type"];

const AGENT_ID = /^[\x21-\x7e]{1,128}$/;

function invalid(field: string, reason: string): LogError {
  return new LogError("ENTRY_INVALID", `entry ${field} ${reason}`, { field, reason });
}

function agentIdBytes(agentId: string): Uint8Array {
  if (typeof agentId !== "string" || !AGENT_ID.test(agentId)) throw invalid("agentId", "must be 1–128 printable ASCII characters without spaces");
  const out = new Uint8Array(2 + agentId.length);
  new DataView(out.buffer).setUint16(0, agentId.length);
  for (let i = 0; i < agentId.length; i++) out[2 + i] = agentId.charCodeAt(i);
  return out;
}

/** @throws LogError ENTRY_INVALID */
export function encodeAgentCheckpointEntry(entry: AgentCheckpointEntry): Uint8Array {
  const note = typeof entry.note === "string" ? encodeUtf8(entry.note) : new Uint8Array();
  if (note.length === 0 || note.length > AGENT_CHECKPOINT_NOTE_MAX_BYTES || decodeUtf8(note) !== entry.note) {
    throw invalid("note", `must be 1–${AGENT_CHECKPOINT_NOTE_MAX_BYTES} bytes of well-formed UTF-8`);
  }
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, note.length);
  return concatBytes(new Uint8Array([AGENT_CHECKPOINT_TAG]), agentIdBytes(entry.agentId), length, note);
}

/** @throws LogError ENTRY_INVALID */
export function encodeKeyEntry(entry: KeyEntry): Uint8Array {
  const event = KEY_EVENTS.indexOf(entry.event);
  if (event < 0) throw invalid("event", `must be one of ${KEY_EVENTS.join(", ")}`);
  if (!(entry.publicKey instanceof Uint8Array) || entry.publicKey.length !== 32) throw invalid("publicKey", "must be 32 bytes");
  if (!Number.isSafeInteger(entry.timestamp) || entry.timestamp < 0) throw invalid("timestamp", "must be an integer 0 … 2^53 − 1");
  const time = new Uint8Array(8);
  const view = new DataView(time.buffer);
  view.setUint32(0, Math.floor(entry.timestamp / 2 ** 32));
  view.setUint32(4, entry.timestamp >>> 0);
  return concatBytes(new Uint8Array([KEY_ENTRY_TAG, event + 1]), agentIdBytes(entry.agentId), entry.publicKey, time);
}

/** @throws LogError ENTRY_INVALID */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  switch (entry.type) {
    case "record":
      return encodeRecord(entry.record);
    case "agent-checkpoint":
      return encodeAgentCheckpointEntry(entry);
    case "key":
      return encodeKeyEntry(entry);
  }
}

/**
 * Decodes any global-log leaf. Strict like decodeRecord: unknown tag, truncation, trailing bytes or
 * a broken field rule are rejected, so encodeLogEntry(decodeLogEntry(b)) = b.
 * @throws LogError ENTRY_INVALID
 */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  if (bytes.length === 0) throw invalid("tag", "is missing (empty entry)");
  const tag = bytes[0];
  if (tag === RECORD_TAG_V1) return { type: "record", record: decodeRecord(bytes) };
  if (tag !== AGENT_CHECKPOINT_TAG && tag !== KEY_ENTRY_TAG) throw invalid("tag", `is ${tag}, not a known entry type (1 record, 2 agent checkpoint, 3 key event)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 1;
  const need = (n: number, field: string): void => {
    if (pos + n > bytes.length) throw invalid(field, `truncated at byte ${pos} (needs ${n} more, ${bytes.length - pos} left)`);
  };
  let event: KeyEvent | undefined;
  if (tag === KEY_ENTRY_TAG) {
    need(1, "event");
    event = KEY_EVENTS[bytes[pos]! - 1];
    if (event === undefined) throw invalid("event", `is ${bytes[pos]}, want 1 enrolled, 2 approved or 3 revoked`);
    pos += 1;
  }
  need(2, "agentId");
  const idLength = view.getUint16(pos);
  pos += 2;
  if (idLength === 0 || idLength > 128) throw invalid("agentId", "must be 1–128 printable ASCII characters without spaces");
  need(idLength, "agentId");
  let agentId = "";
  for (let i = pos; i < pos + idLength; i++) {
    const c = bytes[i]!;
    if (c < 0x21 || c > 0x7e) throw invalid("agentId", "must be 1–128 printable ASCII characters without spaces");
    agentId += String.fromCharCode(c);
  }
  pos += idLength;
  let entry: LogEntry;
  if (event !== undefined) {
    need(32 + 8, "publicKey");
    const publicKey = bytes.slice(pos, pos + 32);
    pos += 32;
    const high = view.getUint32(pos);
    if (high >= 2 ** 21) throw invalid("timestamp", "exceeds 2^53 − 1");
    const timestamp = high * 2 ** 32 + view.getUint32(pos + 4);
    pos += 8;
    entry = { type: "key", event, agentId, publicKey, timestamp };
  } else {
    need(4, "note");
    const noteLength = view.getUint32(pos);
    pos += 4;
    if (noteLength === 0 || noteLength > AGENT_CHECKPOINT_NOTE_MAX_BYTES) throw invalid("note", `must be 1–${AGENT_CHECKPOINT_NOTE_MAX_BYTES} bytes, got ${noteLength}`);
    need(noteLength, "note");
    const note = decodeUtf8(bytes.subarray(pos, pos + noteLength));
    if (note === undefined) throw invalid("note", "is not valid UTF-8");
    pos += noteLength;
    entry = { type: "agent-checkpoint", agentId, note };
  }
  if (pos !== bytes.length) throw invalid("bytes", `has ${bytes.length - pos} trailing bytes`);
  return entry;
}
