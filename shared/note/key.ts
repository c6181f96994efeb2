/**
 * Ed25519 note keys in the C2SP signed-note / Go sumdb/note text formats:
 *
 *   signer key    PRIVATE+KEY+<name>+<hash>+base64(0x01 ‖ 32-byte seed)
 *   verifier key  <name>+<hash>+base64(0x01 ‖ 32-byte public key)
 *
 * where <hash> is the key id as 8 hex digits: the first 4 bytes (big-endian) of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). 0x01 is the Ed25519 signature type.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeBase64, encodeBase64 } from "../encoding/base64.js";
import { concatBytes } from "../encoding/bytes.js";
import { encodeUtf8, isWellFormedText } from "../encoding/utf8.js";
import { NoteError } from "./errors.js";

/** Signature type byte of Ed25519 in signed notes. */
export const ED25519_TYPE = 0x01;

/** Signs note texts. */
export interface NoteSigner {
  readonly name: string;
  /** Key id (uint32). */
  readonly keyId: number;
  /** The matching verifier key text. */
  readonly verifierKey: string;
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies signatures on note texts. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** Never throws; malformed signatures are false. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A name is valid when non-empty, well-formed, and free of Unicode spaces and "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && isWellFormedText(name) && !/[\s+]/u.test(name) && !/[\x00-\x1f\x7f]/.test(name);
}

function requireName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new NoteError("KEY_NAME_INVALID", `key name ${JSON.stringify(name)} must be non-empty with no spaces or "+"`, { name });
  }
}

/** The key id of an Ed25519 key: first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ publicKey), big-endian. */
export function keyId(name: string, publicKey: Uint8Array): number {
  const digest = sha256(concatBytes(encodeUtf8(name), new Uint8Array([0x0a, ED25519_TYPE]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** A key id as the 8 lowercase hex digits used in key texts. */
export function formatKeyId(id: number): string {
  return id.toString(16).padStart(8, "0");
}

function makeVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const id = keyId(name, publicKey);
  return {
    name,
    keyId: id,
    publicKey,
    verify(message, signature) {
      try {
        return signature.length === 64 && ed25519.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

function verifierKeyText(name: string, publicKey: Uint8Array): string {
  return `${name}+${formatKeyId(keyId(name, publicKey))}+${encodeBase64(concatBytes(new Uint8Array([ED25519_TYPE]), publicKey))}`;
}

/**
 * A new Ed25519 key pair as texts. `seed` (32 bytes) makes it deterministic; by default it is random.
 * @throws NoteError KEY_NAME_INVALID
 */
export function generateSignerKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  requireName(name);
  const secret = seed ?? ed25519.utils.randomSecretKey();
  if (secret.length !== 32) throw new NoteError("KEY_MALFORMED", `seed must be 32 bytes, got ${secret.length}`, { got: secret.length });
  const publicKey = ed25519.getPublicKey(secret);
  const id = formatKeyId(keyId(name, publicKey));
  const signerKey = `PRIVATE+KEY+${name}+${id}+${encodeBase64(concatBytes(new Uint8Array([ED25519_TYPE]), secret))}`;
  return { signerKey, verifierKey: verifierKeyText(name, publicKey) };
}

// name+hash+base64(type ‖ key), checking every part and that hash is the key's id.
function parseKeyParts(what: string, name: string, hash: string, encoded: string): Uint8Array {
  requireName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(hash)) throw new NoteError("KEY_MALFORMED", `${what} key hash ${JSON.stringify(hash)} is not 8 hex digits`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(encoded);
  } catch {
    throw new NoteError("KEY_MALFORMED", `${what} key material is not standard base64`);
  }
  if (bytes.length !== 33 || bytes[0] !== ED25519_TYPE) {
    throw new NoteError("KEY_MALFORMED", `${what} key must be 0x01 followed by 32 bytes (Ed25519), got ${bytes.length} bytes of type ${bytes[0] ?? "none"}`, {
      length: bytes.length,
    });
  }
  return bytes.subarray(1);
}

function requireKeyId(what: string, name: string, hash: string, publicKey: Uint8Array): void {
  const id = keyId(name, publicKey);
  if (Number.parseInt(hash, 16) !== id) {
    throw new NoteError("KEY_MALFORMED", `${what} key hash ${hash} does not match its key (want ${formatKeyId(id)})`, { hash, want: formatKeyId(id) });
  }
}

// Splits at the first count−1 "+" signs: the base64 key at the end may itself contain "+".
function splitKey(text: string, count: number): string[] | undefined {
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < count - 1; i++) {
    const at = rest.indexOf("+");
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

/**
 * Parses a verifier key `name+hash+base64(0x01 ‖ publicKey)`.
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const parts = splitKey(text, 3);
  if (parts === undefined) throw new NoteError("KEY_MALFORMED", "verifier key must be name+hash+base64");
  const [name, hash, encoded] = parts as [string, string, string];
  const publicKey = parseKeyParts("verifier", name, hash, encoded).slice();
  requireKeyId("verifier", name, hash, publicKey);
  return makeVerifier(name, publicKey);
}

/**
 * Parses a signer key `PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)`.
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseSignerKey(text: string): NoteSigner {
  const parts = splitKey(text, 5);
  if (parts === undefined || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new NoteError("KEY_MALFORMED", "signer key must be PRIVATE+KEY+name+hash+base64");
  }
  const [, , name, hash, encoded] = parts as [string, string, string, string, string];
  const seed = parseKeyParts("signer", name, hash, encoded).slice();
  const publicKey = ed25519.getPublicKey(seed);
  requireKeyId("signer", name, hash, publicKey);
  return {
    name,
    keyId: keyId(name, publicKey),
    verifierKey: verifierKeyText(name, publicKey),
    sign: (message) => ed25519.sign(message, seed),
  };
}
