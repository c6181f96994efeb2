import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { agentLogOrigin } from "../../shared/checkpoint/agent-log-names.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { encodeHex } from "../../shared/encoding/hex.js";
import {
  AGENT_CHECKPOINT_NOTE_MAX_BYTES,
  decodeLogEntry,
  encodeAgentCheckpointEntry,
  encodeKeyEntry,
  encodeLogEntry,
  encodeRecord,
  hashLeaf,
  isLogError,
  sealRecord,
  EMPTY_ROOT,
} from "../../shared/log/index.js";
import { parseSignerKey, generateSignerKey } from "../../shared/note/index.js";

const seed = new Uint8Array(32).fill(7);
const publicKey = ed25519.getPublicKey(seed);

function code(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isLogError(err)) return err.code;
    throw err;
  }
  return "no error";
}

describe("global log entry types (docs/log.md §5)", () => {
  it("encodes a key event byte for byte and decodes it back", () => {
    const bytes = encodeKeyEntry({ event: "approved", agentId: "ag_1", publicKey, timestamp: 1764115200000 });
    expect(encodeHex(bytes)).toBe(`0302` + `0004` + encodeHex(new TextEncoder().encode("ag_1")) + encodeHex(publicKey) + `0000019abd75b800`);
    expect(decodeLogEntry(bytes)).toEqual({ type: "key", event: "approved", agentId: "ag_1", publicKey, timestamp: 1764115200000 });
  });

  it("encodes an agent checkpoint entry around the note verbatim", () => {
    const signer = parseSignerKey(generateSignerKey(agentLogOrigin("edge.test/fleet/default", "ag_1"), seed).signerKey);
    const note = signCheckpoint({ origin: agentLogOrigin("edge.test/fleet/default", "ag_1"), size: 0, root: EMPTY_ROOT }, [signer]);
    const bytes = encodeAgentCheckpointEntry({ agentId: "ag_1", note });
    const noteBytes = new TextEncoder().encode(note);
    expect(bytes[0]).toBe(0x02);
    expect(new DataView(bytes.buffer).getUint32(7)).toBe(noteBytes.length);
    expect(bytes.subarray(11)).toEqual(noteBytes);
    expect(decodeLogEntry(bytes)).toEqual({ type: "agent-checkpoint", agentId: "ag_1", note });
    expect(encodeLogEntry({ type: "agent-checkpoint", agentId: "ag_1", note })).toEqual(bytes);
  });

  it("decodes records through the same door, and leaf hashes are over the exact bytes", () => {
    const record = sealRecord({ agentId: "ag_1", seq: 3, kind: "memory", timestamp: 5, payloadJson: "{}" }, seed);
    const bytes = encodeRecord(record);
    const decoded = decodeLogEntry(bytes);
    expect(decoded.type).toBe("record");
    expect(encodeLogEntry(decoded)).toEqual(bytes);
    expect(hashLeaf(encodeLogEntry(decoded))).toEqual(hashLeaf(bytes));
  });

  it("is strict: unknown tag, bad event, truncation, trailing bytes, bad agent id, oversize note", () => {
    const key = encodeKeyEntry({ event: "enrolled", agentId: "ag_1", publicKey, timestamp: 1 });
    expect(code(() => decodeLogEntry(new Uint8Array()))).toBe("ENTRY_INVALID");
    expect(code(() => decodeLogEntry(new Uint8Array([0x09, 0, 0])))).toBe("ENTRY_INVALID");
    expect(code(() => decodeLogEntry(Uint8Array.of(0x03, 4, ...key.subarray(2))))).toBe("ENTRY_INVALID");
    expect(code(() => decodeLogEntry(key.subarray(0, key.length - 1)))).toBe("ENTRY_INVALID");
    expect(code(() => decodeLogEntry(Uint8Array.of(...key, 0)))).toBe("ENTRY_INVALID");
    expect(code(() => encodeKeyEntry({ event: "enrolled", agentId: "has space", publicKey, timestamp: 1 }))).toBe("ENTRY_INVALID");
    expect(code(() => encodeKeyEntry({ event: "enrolled", agentId: "ag_1", publicKey: publicKey.subarray(1), timestamp: 1 }))).toBe("ENTRY_INVALID");
    expect(code(() => encodeKeyEntry({ event: "enrolled", agentId: "ag_1", publicKey, timestamp: 2 ** 53 }))).toBe("ENTRY_INVALID");
    expect(code(() => encodeAgentCheckpointEntry({ agentId: "ag_1", note: "x".repeat(AGENT_CHECKPOINT_NOTE_MAX_BYTES + 1) }))).toBe("ENTRY_INVALID");
    expect(code(() => encodeAgentCheckpointEntry({ agentId: "ag_1", note: "" }))).toBe("ENTRY_INVALID");
    const badUtf8 = Uint8Array.of(0x02, 0, 1, 0x41, 0, 0, 0, 1, 0xff);
    expect(code(() => decodeLogEntry(badUtf8))).toBe("ENTRY_INVALID");
  });
});
