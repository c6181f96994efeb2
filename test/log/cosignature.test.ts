import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { agentLogOrigin, agentLogVerifierKey, witnessName, witnessVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { formatCheckpoint, signCheckpoint } from "../../shared/checkpoint/index.js";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { EMPTY_ROOT } from "../../shared/log/index.js";
import {
  COSIGNATURE_TYPE,
  cosign,
  cosignatureKeyId,
  cosignatureLine,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignedMessage,
  generateSignerKey,
  NoteError,
  openNote,
  parseSignerKey,
  parseVerifierKey,
} from "../../shared/note/index.js";

const fleet = "edge.test/fleet/default";
const log = parseSignerKey(generateSignerKey(fleet, new Uint8Array(32).fill(1)).signerKey);
const logVerifier = parseVerifierKey(log.verifierKey);
const seed = new Uint8Array(32).fill(2);
const publicKey = ed25519.getPublicKey(seed);
const sign = (m: Uint8Array) => ed25519.sign(m, seed);
const name = witnessName(fleet, "ag_1");
const body = formatCheckpoint({ origin: fleet, size: 0, root: EMPTY_ROOT });

describe("C2SP tlog-cosignature cosignature/v1 (Ed25519)", () => {
  it("computes the key id with type 0x04 and signs the two header lines plus the body", () => {
    const expected = sha256(new Uint8Array([...new TextEncoder().encode(name), 0x0a, 0x04, ...publicKey]));
    expect(cosignatureKeyId(name, publicKey)).toBe(new DataView(expected.buffer).getUint32(0));
    expect(new TextDecoder().decode(cosignedMessage(body, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${body}`);
    const sig = cosign(body, name, publicKey, 1679315147, sign);
    expect(sig.length).toBe(76);
    expect(cosignatureTimestamp(sig.subarray(4))).toBe(1679315147);
    expect(ed25519.verify(sig.subarray(12), cosignedMessage(body, 1679315147), publicKey)).toBe(true);
  });

  it("a published checkpoint opens with the log key, and the cosignature verifies with the witness key", () => {
    const note = signCheckpoint({ origin: fleet, size: 0, root: EMPTY_ROOT }, [log]) + cosignatureLine(name, cosign(body, name, publicKey, 1764115200, sign));
    const opened = openNote(note, [logVerifier, cosignatureVerifier(name, publicKey)]);
    expect(opened.verified.map((s) => s.name)).toEqual([fleet, name]);
    // The same note opens with the log key alone: a cosignature by a key the verifier does not know is ignored.
    expect(openNote(note, [logVerifier]).unverified.map((s) => s.name)).toEqual([name]);
    // The vkey text form (type 0x04) parses to the same verifier.
    const vkey = witnessVerifierKey(fleet, "ag_1", publicKey);
    expect(decodeBase64(vkey.split("+")[2]!)[0]).toBe(COSIGNATURE_TYPE);
    expect(openNote(note, [logVerifier, parseVerifierKey(vkey)]).verified).toHaveLength(2);
  });

  it("rejects a cosignature over another body, time or key", () => {
    const other = formatCheckpoint({ origin: fleet, size: 1, root: new Uint8Array(32) });
    const forged = signCheckpoint({ origin: fleet, size: 0, root: EMPTY_ROOT }, [log]) + cosignatureLine(name, cosign(other, name, publicKey, 5, sign));
    expect(() => openNote(forged, [logVerifier, cosignatureVerifier(name, publicKey)])).toThrow(NoteError);
    const sig = cosign(body, name, publicKey, 5, sign);
    const verifier = cosignatureVerifier(name, publicKey);
    const message = new TextEncoder().encode(body);
    expect(verifier.verify(message, sig.subarray(4))).toBe(true);
    const shifted = sig.slice(4);
    shifted[7] = 6; // timestamp 6, signature over 5
    expect(verifier.verify(message, shifted)).toBe(false);
    expect(verifier.verify(message, sig.subarray(4, 70))).toBe(false);
    expect(cosignatureVerifier(name, ed25519.getPublicKey(new Uint8Array(32).fill(3))).verify(message, sig.subarray(4))).toBe(false);
  });

  it("names an agent's log and witness under the fleet origin, with distinct key ids for one key", () => {
    expect(agentLogOrigin(fleet, "ag_1")).toBe(`${fleet}/agent/ag_1`);
    expect(name).toBe(`${fleet}/witness/ag_1`);
    const agentVkey = parseVerifierKey(agentLogVerifierKey(fleet, "ag_1", publicKey));
    expect(agentVkey.name).toBe(`${fleet}/agent/ag_1`);
    expect(agentVkey.keyId).not.toBe(cosignatureKeyId(agentVkey.name, publicKey));
  });
});
