/**
 * The audit's pure parts (shared/audit): which key was valid when, the monitor's kept state and
 * how a new checkpoint relates to it, witness keys, and the strict parsing of the edge's answers
 * (every field a hostile edge chooses).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  AuditFailure,
  compareWithKept,
  formatKeptState,
  keyValidAt,
  MonitorStateError,
  parseKeptState,
  parseWitnessKey,
  validCosigners,
  WitnessKeyError,
  type KeptCheckpoint,
} from "../../shared/audit/index.js";
import { parseAgentCheckpointDocument, parseAgentKeysDocument, parseEntryLeaf, parseInclusionDocument } from "../../shared/audit/fetch-documents.js";
import { agentLogVerifierKey, signCheckpoint, witnessName, witnessVerifierKey } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { agentIdForKey } from "../../shared/log/agent-id.js";
import { cosign, cosignatureLine, generateSignerKey, parseSignerKey } from "../../shared/note/index.js";

const key = (n: number) => new Uint8Array(32).fill(n);

describe("keyValidAt", () => {
  const id = agentIdForKey(key(1));
  const events = [
    { event: "enrolled" as const, publicKey: key(1), index: 3 },
    { event: "approved" as const, publicKey: key(1), index: 4 },
    { event: "revoked" as const, publicKey: key(1), index: 10 },
  ];

  it("the key whose fingerprint is the agent id, enrolled, and not revoked before the index", () => {
    expect(keyValidAt(events, 5, id)).toEqual({ valid: true, publicKey: key(1), enrolledIndex: 3, enrolledAfter: false });
    expect(keyValidAt(events, 10, id)).toMatchObject({ valid: true });
    expect(keyValidAt(events, 11, id)).toMatchObject({ valid: false, reason: expect.stringContaining("revoked at index 10") });
    expect(keyValidAt([], 3, id)).toMatchObject({ valid: false, reason: expect.stringContaining("no enrollment entry") });
    // Order of the answer does not matter.
    expect(keyValidAt(events.slice().reverse(), 7, id)).toMatchObject({ valid: true, enrolledIndex: 3 });
  });

  it("a record older than its agent's key entries (enrolled before keys were logged) is said, not refused", () => {
    expect(keyValidAt(events, 2, id)).toEqual({ valid: true, publicKey: key(1), enrolledIndex: 3, enrolledAfter: true });
  });

  it("refuses a key entry whose key is not the agent's (an agent id is its key's fingerprint)", () => {
    const forged = [{ event: "enrolled" as const, publicKey: key(2), index: 1 }, ...events];
    expect(keyValidAt(forged, 5, id)).toMatchObject({ valid: false, reason: expect.stringContaining("not " + id) });
    expect(keyValidAt(events, 5, agentIdForKey(key(2)))).toMatchObject({ valid: false });
  });
});

describe("monitor state", () => {
  const signer = parseSignerKey(generateSignerKey("audit.test/log", key(7)).signerKey);
  const note = signCheckpoint({ origin: "audit.test/fleet/x", size: 5, root: key(3) }, [signer]);
  const kept: KeptCheckpoint = { origin: "audit.test/fleet/x", size: 5, root: encodeBase64(key(3)), note };

  it("round-trips and refuses anything else", () => {
    const text = formatKeptState(kept, Date.UTC(2026, 0, 1));
    expect(text).toContain('"keptAt": "2026-01-01T00:00:00.000Z"');
    expect(parseKeptState(text)).toEqual(kept);
    for (const bad of ["", "{", "[]", JSON.stringify({ ...kept, version: 2 }), JSON.stringify({ version: 1, ...kept, size: -1 }), JSON.stringify({ version: 1, ...kept, root: "AAAA" }), JSON.stringify({ version: 1, ...kept, note: 3 })]) {
      expect(() => parseKeptState(bad), bad).toThrow(MonitorStateError);
    }
  });

  it("compares the latest checkpoint with the kept one", () => {
    const at = (size: number, root = kept.root, origin = kept.origin) => ({ origin, size, root });
    expect(compareWithKept(kept, at(5))).toEqual({ kind: "consistent" });
    expect(compareWithKept(kept, at(9))).toEqual({ kind: "extends", from: 5, to: 9 });
    expect(compareWithKept(kept, at(4))).toMatchObject({ kind: "fork", reason: expect.stringContaining("shrank") });
    expect(compareWithKept(kept, at(5, encodeBase64(key(4))))).toMatchObject({ kind: "fork", reason: expect.stringContaining("two roots for size 5") });
    expect(compareWithKept(kept, at(9, kept.root, "other/log"))).toMatchObject({ kind: "fork" });
    expect(compareWithKept({ ...kept, size: 0 }, at(9))).toEqual({ kind: "consistent" });
  });
});

describe("witness keys", () => {
  const origin = "audit.test/fleet/x";
  const secret = key(5);
  const publicKey = ed25519.getPublicKey(secret);
  it("accepts an agent's cosigner key and names its agent; refuses a type 0x01 key or another name", () => {
    const w = parseWitnessKey(witnessVerifierKey(origin, "ag_1", publicKey));
    expect(w).toMatchObject({ origin, agentId: "ag_1" });
    expect(() => parseWitnessKey(agentLogVerifierKey(origin, "ag_1", publicKey))).toThrow(WitnessKeyError);
    expect(() => parseWitnessKey(witnessVerifierKey(origin, "ag_1", publicKey).replace("/witness/", "/wit/"))).toThrow(WitnessKeyError);
    expect(() => parseWitnessKey("not a key")).toThrow(WitnessKeyError);
  });

  it("counts valid cosignatures; a bad one is not counted", () => {
    const logSigner = parseSignerKey(generateSignerKey("audit.test/log", key(7)).signerKey);
    const note = signCheckpoint({ origin, size: 3, root: key(1) }, [logSigner]);
    const body = note.slice(0, note.lastIndexOf("\n\n") + 1);
    const name = witnessName(origin, "ag_1");
    const good = cosignatureLine(name, cosign(body, name, publicKey, 1_700_000_000, (m) => ed25519.sign(m, secret)));
    const w = parseWitnessKey(witnessVerifierKey(origin, "ag_1", publicKey));
    const other = parseWitnessKey(witnessVerifierKey(origin, "ag_2", ed25519.getPublicKey(key(6))));
    expect(validCosigners(note + good, [w, other])).toEqual({ valid: ["ag_1"], bad: [] });
    const forged = cosignatureLine(name, cosign(body, name, publicKey, 1_700_000_000, (m) => ed25519.sign(m, key(8))));
    expect(validCosigners(note + forged, [w])).toEqual({ valid: [], bad: ["ag_1"] });
  });
});

describe("edge answers are parsed strictly", () => {
  const hash = encodeBase64(key(1));
  it("inclusion proofs", () => {
    expect(parseInclusionDocument({ leafIdx: 1, treeSize: 2, proof: [hash], root: "ignored" })).toEqual({ leafIdx: 1, treeSize: 2, proof: [key(1)] });
    expect(parseInclusionDocument({ leafIdx: 0, treeSize: 1, proof: null }).proof).toEqual([]);
    for (const bad of [null, [], "x", { leafIdx: -1, treeSize: 2 }, { leafIdx: 1.5, treeSize: 2 }, { leafIdx: 0, treeSize: 2 ** 53 }, { leafIdx: 0, treeSize: 2, proof: ["AAAA"] }, { leafIdx: 0, treeSize: 2, proof: Array(129).fill(hash) }, { leafIdx: 0, treeSize: 2, proof: [1] }]) {
      expect(() => parseInclusionDocument(bad), JSON.stringify(bad)?.slice(0, 80)).toThrow(AuditFailure);
    }
  });
  it("entries pages, agent checkpoints and key histories", () => {
    expect(parseEntryLeaf({ entries: [{ index: 4, leaf: "AQI=" }] }, 4)).toEqual(new Uint8Array([1, 2]));
    expect(() => parseEntryLeaf({ entries: [{ index: 5, leaf: "AQI=" }] }, 4)).toThrow(AuditFailure);
    expect(() => parseEntryLeaf({ entries: [{ index: 4, leaf: "A" }] }, 4)).toThrow(AuditFailure);
    expect(() => parseEntryLeaf({ entries: [{ index: 4, leaf: "A".repeat(200_000) }] }, 4)).toThrow(AuditFailure);
    const cp = { agentId: "ag_1", size: 2, root: hash, note: "n\n\n— x AAAA\n", index: 9 };
    expect(parseAgentCheckpointDocument(cp)).toMatchObject({ agentId: "ag_1", size: 2, index: 9 });
    expect(() => parseAgentCheckpointDocument({ ...cp, note: "x".repeat(4097) })).toThrow(AuditFailure);
    expect(() => parseAgentCheckpointDocument({ ...cp, root: "AAAA" })).toThrow(AuditFailure);
    const keys = { agentId: "ag_1", keys: [{ event: "enrolled", publicKey: hash, index: 0, at: 1 }] };
    expect(parseAgentKeysDocument(keys).keys[0]).toEqual({ event: "enrolled", publicKey: key(1), index: 0, at: 1 });
    expect(() => parseAgentKeysDocument({ ...keys, keys: [{ ...keys.keys[0], event: "rotated" }] })).toThrow(AuditFailure);
    expect(() => parseAgentKeysDocument({ ...keys, keys: Array(65).fill(keys.keys[0]) })).toThrow(AuditFailure);
    expect(() => parseAgentKeysDocument({ ...keys, keys: [{ ...keys.keys[0], publicKey: encodeBase64(new Uint8Array(31)) }] })).toThrow(AuditFailure);
  });
});
