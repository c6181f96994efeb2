import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import {
  NOTE_LIMITS,
  NoteError,
  generateSignerKey,
  keyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  parseVerifierKeyText,
  signNote,
} from "../../shared/note/index.js";
import { kat } from "./fixtures.js";
import { thrown } from "./thrown.js";

const errorOf = (run: () => unknown): NoteError => thrown(NoteError, run);

const alice = generateSignerKey("alice.example/log");
const bob = generateSignerKey("bob.example/witness");
const text = "hello\nworld\n";

describe("keys", () => {
  it("generated keys have the documented shape and key id", () => {
    expect(alice.signerKey).toMatch(/^PRIVATE\+KEY\+alice\.example\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(alice.verifierKey).toMatch(/^alice\.example\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const v = parseVerifierKey(alice.verifierKey);
    expect(v.keyId).toBe(keyId("alice.example/log", v.publicKey));
    expect(v.keyId.toString(16).padStart(8, "0")).toBe(alice.verifierKey.split("+")[1]);
    expect(parseSignerKey(alice.signerKey).verifierKey).toBe(alice.verifierKey);
  });

  it("the PeterNeumann key id is c74f20a3", () => {
    expect(parseVerifierKey(kat.signedNote.verifierKey).keyId).toBe(0xc74f20a3);
  });

  it("parseVerifierKeyText gives the verifier's name, key id and key without a verifier", () => {
    for (const text of [alice.verifierKey, kat.signedNote.verifierKey]) {
      const parts = parseVerifierKeyText(text);
      const v = parseVerifierKey(text);
      expect(parts).toEqual({ name: v.name, keyId: v.keyId, publicKey: v.publicKey });
      expect("verify" in parts).toBe(false);
    }
  });

  it("rejects malformed keys with stable codes", () => {
    const [name, hash, b64] = [alice.verifierKey.split("+")[0]!, alice.verifierKey.split("+")[1]!, alice.verifierKey.split("+").slice(2).join("+")];
    expect(errorOf(() => parseVerifierKeyText(`${name}+00000000+${b64}`)).code).toBe("KEY_MALFORMED");
    expect(errorOf(() => parseVerifierKeyText(`+${hash}+${b64}`)).code).toBe("KEY_NAME_INVALID");
    expect(errorOf(() => parseVerifierKey(`${name}+00000000+${b64}`)).code).toBe("KEY_MALFORMED"); // wrong hash
    expect(errorOf(() => parseVerifierKey(`${name}+${hash}`)).code).toBe("KEY_MALFORMED");
    expect(errorOf(() => parseVerifierKey(`${name}+${hash}+!!!!`)).code).toBe("KEY_MALFORMED");
    const wrongType = decodeBase64(b64);
    wrongType[0] = 2;
    expect(errorOf(() => parseVerifierKey(`${name}+${hash}+${encodeBase64(wrongType)}`)).code).toBe("KEY_MALFORMED");
    expect(errorOf(() => parseVerifierKey(`+${hash}+${b64}`)).code).toBe("KEY_NAME_INVALID");
    expect(errorOf(() => parseSignerKey(alice.verifierKey)).code).toBe("KEY_MALFORMED");
    expect(errorOf(() => generateSignerKey("has space")).code).toBe("KEY_NAME_INVALID");
  });
});

describe("sign and open", () => {
  const a = parseSignerKey(alice.signerKey);
  const b = parseSignerKey(bob.signerKey);
  const va = parseVerifierKey(alice.verifierKey);
  const vb = parseVerifierKey(bob.verifierKey);

  it("a note signed by two keys opens with either; unknown signers are ignored", () => {
    const note = signNote(text, [a, b]);
    expect(note.startsWith(text + "\n\u2014 alice.example/log ")).toBe(true);
    const byA = openNote(note, [va]);
    expect(byA.text).toBe(text);
    expect(byA.verified.map((s) => s.name)).toEqual(["alice.example/log"]);
    expect(byA.unverified.map((s) => s.name)).toEqual(["bob.example/witness"]);
    expect(openNote(note, [va, vb]).verified).toHaveLength(2);
  });

  it("no known signer: NOTE_UNVERIFIED", () => {
    expect(errorOf(() => openNote(signNote(text, [b]), [va])).code).toBe("NOTE_UNVERIFIED");
  });

  it("a known signer's bad signature rejects the note, even beside a good one", () => {
    const good = signNote(text, [a]);
    const forged = signNote("other\n", [b]).split("\n\n")[1]!; // bob's signature over another text
    const err = errorOf(() => openNote(good + forged, [va, vb]));
    expect(err.code).toBe("NOTE_BAD_SIGNATURE");
    expect(err.details).toEqual({ name: "bob.example/witness", keyId: bob.verifierKey.split("+")[1] });
    // Tampered text.
    expect(errorOf(() => openNote(good.replace("hello", "hullo"), [va])).code).toBe("NOTE_BAD_SIGNATURE");
  });

  it("every single-bit change to a signature is rejected", () => {
    const note = signNote(text, [a]);
    const line = note.split("\n\n")[1]!.trimEnd();
    const raw = decodeBase64(line.split(" ")[2]!);
    for (let bit = 32; bit < raw.length * 8; bit += 7) {
      const bad = raw.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const changed = `${text}\n\u2014 alice.example/log ${encodeBase64(bad)}\n`;
      expect(errorOf(() => openNote(changed, [va])).code).toBe("NOTE_BAD_SIGNATURE");
    }
  });

  it("syntax errors are NOTE_MALFORMED", () => {
    const note = signNote(text, [a]);
    const cases = [
      note.replace("\n\n", "\n"), // no blank line
      note.slice(0, -1), // no final newline
      note.replace("\u2014 ", "-- "), // not an em dash
      note.replace("\u2014 alice.example/log ", "\u2014 alice.example/log"), // no space
      note.replace(/ [A-Za-z0-9+/=]+\n$/, " AAAA\n"), // signature too short
      note.replace(/ [A-Za-z0-9+/=]+\n$/, " not-base64\n"),
      "hello\tworld\n\n" + note.split("\n\n")[1], // control character
    ];
    for (const c of cases) expect(errorOf(() => openNote(c, [va])).code).toBe("NOTE_MALFORMED");
    expect(errorOf(() => openNote(new Uint8Array([0xff, 0x0a, 0x0a]), [va])).code).toBe("NOTE_MALFORMED");
  });

  it("limits are explicit", () => {
    const line = signNote(text, [a]).split("\n\n")[1]!;
    const many = text + "\n" + line.repeat(NOTE_LIMITS.maxSignatures + 1);
    expect(errorOf(() => parseNote(many)).code).toBe("NOTE_TOO_MANY_SIGNATURES");
    const big = "x".repeat(NOTE_LIMITS.maxBytes) + "\n";
    expect(errorOf(() => signNote(big, [a])).code).toBe("NOTE_TOO_LARGE");
    expect(errorOf(() => openNote(big + "\n" + line, [va])).code).toBe("NOTE_TOO_LARGE");
    expect(errorOf(() => signNote("no newline", [a])).code).toBe("TEXT_INVALID");
    expect(errorOf(() => signNote("", [a])).code).toBe("TEXT_INVALID");
    expect(errorOf(() => signNote("bell\u0007\n", [a])).code).toBe("TEXT_INVALID");
  });

  it("repeated signatures by one key count once; the first decides", () => {
    const note = signNote(text, [a]);
    const line = note.split("\n\n")[1]!;
    expect(openNote(note + line, [va]).verified).toHaveLength(1);
  });
});
