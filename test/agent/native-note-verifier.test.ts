import { describe, expect, it } from "vitest";
import { nativeNoteVerifier } from "../../agent/identity/nativeNoteVerifier.js";
import { generateSignerKey, openNote, parseSignerKey, parseVerifierKey, signNote } from "../../shared/note/index.js";

describe("nativeNoteVerifier", () => {
  const { signerKey, verifierKey } = generateSignerKey("edge.test/fleet/default");
  const portable = parseVerifierKey(verifierKey);
  const native = nativeNoteVerifier(portable);
  const note = signNote("edge.test/fleet/default\n3\nAAAA\n", [parseSignerKey(signerKey)]);

  it("keeps the key's name and id and accepts what the portable verifier accepts", () => {
    expect(native.name).toBe(portable.name);
    expect(native.keyId).toBe(portable.keyId);
    expect(openNote(note, [native]).verified.length).toBe(1);
  });

  it("rejects a changed message, a flipped signature bit and a malformed signature, like the portable one", () => {
    const msg = new TextEncoder().encode("a message\n");
    const sig = parseSignerKey(signerKey).sign(msg);
    expect(native.verify(msg, sig)).toBe(true);
    const other = new TextEncoder().encode("another message\n");
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    for (const [m, s] of [[other, sig], [msg, flipped], [msg, sig.subarray(0, 63)], [msg, new Uint8Array(64)]] as const) {
      expect(native.verify(m, s)).toBe(false);
      expect(portable.verify(m, s)).toBe(false);
    }
  });
});
