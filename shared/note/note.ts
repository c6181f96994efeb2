/**
 * C2SP signed notes: a text ending in a newline, a blank line, then one or more signature lines
 * `— <key name> base64(uint32 key id ‖ signature)` (em dash U+2014, space). The signatures cover
 * the text including its final newline. Opening follows Go's sumdb/note: split at the last blank
 * line, ignore signatures by unknown keys (and repeats), reject the note if a known key's signature
 * does not verify, and require at least one verified signature.
 */
import { decodeBase64, encodeBase64 } from "../encoding/base64.js";
import { concatBytes } from "../encoding/bytes.js";
import { decodeUtf8, encodeUtf8, isWellFormedText } from "../encoding/utf8.js";
import { NoteError } from "./errors.js";
import { formatKeyId, isValidKeyName, type NoteSigner, type NoteVerifier } from "./key-text.js";

export const NOTE_LIMITS = {
  /** Largest signed note accepted or produced, in bytes (a checkpoint is a few hundred). */
  maxBytes: 65_536,
  /** Most signature lines accepted (Go's sumdb/note limit). */
  maxSignatures: 100,
} as const;

const SIGNATURE_PREFIX = "\u2014 ";

/** One signature line. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** base64(uint32 key id ‖ signature), as on the line. */
  readonly base64: string;
}

/** A note whose signatures were checked: `verified` by known keys, `unverified` by unknown ones. */
export interface OpenedNote {
  readonly text: string;
  readonly verified: readonly NoteSignature[];
  readonly unverified: readonly NoteSignature[];
}

// Well-formed, newline-terminated, no ASCII control characters other than newline.
function textProblem(text: string): string | undefined {
  if (text.length === 0) return "is empty";
  if (!text.endsWith("\n")) return "does not end with a newline";
  if (!isWellFormedText(text)) return "is not well-formed Unicode";
  const ctl = /[\x00-\x09\x0b-\x1f]/.exec(text);
  if (ctl) return `has control character 0x${ctl[0].charCodeAt(0).toString(16).padStart(2, "0")} at offset ${ctl.index}`;
  return undefined;
}

function signatureLine(name: string, id: number, signature: Uint8Array): string {
  const idBytes = new Uint8Array(4);
  new DataView(idBytes.buffer).setUint32(0, id);
  return `${SIGNATURE_PREFIX}${name} ${encodeBase64(concatBytes(idBytes, signature))}\n`;
}

/**
 * Signs a text with one or more signers and returns the signed note.
 * Requires a non-empty text ending in "\n" with no control characters but newline.
 * @throws NoteError TEXT_INVALID, NOTE_TOO_LARGE
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  const problem = textProblem(text);
  if (problem !== undefined) throw new NoteError("TEXT_INVALID", `note text ${problem}`, { reason: problem });
  if (signers.length === 0 || signers.length > NOTE_LIMITS.maxSignatures) {
    throw new NoteError("NOTE_TOO_MANY_SIGNATURES", `need 1–${NOTE_LIMITS.maxSignatures} signers, got ${signers.length}`, { got: signers.length });
  }
  const message = encodeUtf8(text);
  let note = text + "\n";
  for (const signer of signers) note += signatureLine(signer.name, signer.keyId, signer.sign(message));
  const bytes = encodeUtf8(note).length;
  if (bytes > NOTE_LIMITS.maxBytes) throw new NoteError("NOTE_TOO_LARGE", `signed note is ${bytes} bytes, limit ${NOTE_LIMITS.maxBytes}`, { bytes, max: NOTE_LIMITS.maxBytes });
  return note;
}

/**
 * Splits a signed note into its text and signature lines, checking syntax only (no signatures).
 * @throws NoteError NOTE_MALFORMED, NOTE_TOO_LARGE, NOTE_TOO_MANY_SIGNATURES
 */
export function parseNote(note: string | Uint8Array): { text: string; signatures: (NoteSignature & { signature: Uint8Array })[] } {
  const bytes = typeof note === "string" ? encodeUtf8(note).length : note.length;
  if (bytes > NOTE_LIMITS.maxBytes) throw new NoteError("NOTE_TOO_LARGE", `signed note is ${bytes} bytes, limit ${NOTE_LIMITS.maxBytes}`, { bytes, max: NOTE_LIMITS.maxBytes });
  const decoded = typeof note === "string" ? (isWellFormedText(note) ? note : undefined) : decodeUtf8(note);
  if (decoded === undefined) throw new NoteError("NOTE_MALFORMED", "signed note is not valid UTF-8");
  const ctl = /[\x00-\x09\x0b-\x1f]/.exec(decoded);
  if (ctl) throw new NoteError("NOTE_MALFORMED", `signed note has a control character at offset ${ctl.index}`, { offset: ctl.index });
  const split = decoded.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("NOTE_MALFORMED", "signed note has no blank line before its signatures");
  const text = decoded.slice(0, split + 1);
  const block = decoded.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) throw new NoteError("NOTE_MALFORMED", "signed note has no signature lines, or they do not end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > NOTE_LIMITS.maxSignatures) {
    throw new NoteError("NOTE_TOO_MANY_SIGNATURES", `signed note has ${lines.length} signatures, limit ${NOTE_LIMITS.maxSignatures}`, {
      got: lines.length,
      max: NOTE_LIMITS.maxSignatures,
    });
  }
  const signatures = lines.map((line, i) => {
    const bad = (why: string) => new NoteError("NOTE_MALFORMED", `signature line ${i + 1} ${why}`, { line: i + 1 });
    if (!line.startsWith(SIGNATURE_PREFIX)) throw bad('does not start with "— "');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw bad("has no space between key name and signature");
    const name = rest.slice(0, space);
    const b64 = rest.slice(space + 1);
    if (!isValidKeyName(name)) throw bad("has an invalid key name");
    let raw: Uint8Array;
    try {
      raw = decodeBase64(b64);
    } catch {
      throw bad("signature is not standard base64");
    }
    if (raw.length < 5) throw bad("signature is shorter than a key id plus one byte");
    const keyId = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
    return { name, keyId, base64: b64, signature: raw.slice(4) };
  });
  return { text, signatures };
}

/**
 * Opens a signed note against the verifiers the caller trusts.
 * @throws NoteError NOTE_MALFORMED (and size limits), NOTE_BAD_SIGNATURE when a known key's
 *   signature fails (details: name, keyId), NOTE_UNVERIFIED when no known key signed it
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const message = encodeUtf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const { signature, ...sig } of signatures) {
    const key = `${sig.name}+${sig.keyId}`;
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (verifier === undefined) {
      if (!unverified.some((u) => u.name === sig.name && u.base64 === sig.base64)) unverified.push(sig);
      continue;
    }
    // Repeated signatures by one key: the first decides, as in Go.
    if (seen.has(key)) continue;
    seen.add(key);
    if (!verifier.verify(message, signature)) {
      throw new NoteError("NOTE_BAD_SIGNATURE", `signature by ${sig.name}+${formatKeyId(sig.keyId)} does not verify`, {
        name: sig.name,
        keyId: formatKeyId(sig.keyId),
      });
    }
    verified.push(sig);
  }
  if (verified.length === 0) {
    const names = unverified.map((u) => `${u.name}+${formatKeyId(u.keyId)}`).join(", ");
    throw new NoteError("NOTE_UNVERIFIED", `no signature by a known key${names ? ` (signed by ${names})` : ""}`, { signatures: unverified.length });
  }
  return { text, verified, unverified };
}
