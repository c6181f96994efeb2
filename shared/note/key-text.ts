/**
 * The C2SP signed-note key texts and key ids, with no signature code, so a runtime with a native
 * Ed25519 (the agent's node:crypto) can parse keys without loading the portable one (key.ts):
 *
 *   signer key    PRIVATE+KEY+<name>+<hash>+base64(0x01 ‖ 32-byte seed)
 *   verifier key  <name>+<hash>+base64(0x01 ‖ 32-byte public key)
 *
 * where <hash> is the key id as 8 hex digits: the first 4 bytes (big-endian) of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). 0x01 is the Ed25519 signature type.
 */
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

/** A verifier key's parts, checked: a valid name, and a hash that is the key's id. */
export interface VerifierKeyParts {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}

/** A name is valid when non-empty, well-formed, and free of Unicode spaces and "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && isWellFormedText(name) && !/[\s+]/u.test(name) && !/[\x00-\x1f\x7f]/.test(name);
}

export function requireName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new NoteError("KEY_NAME_INVALID", `key name ${JSON.stringify(name)} must be non-empty with no spaces or "+"`, { name });
  }
}

/**
 * The key id: first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ publicKey), big-endian. The type is
 * 0x01 for note signatures, 0x04 for C2SP cosignature/v1 (cosignature.ts).
 */
export function keyId(name: string, publicKey: Uint8Array, type: number = ED25519_TYPE): number {
  const digest = sha256(concatBytes(encodeUtf8(name), new Uint8Array([0x0a, type]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** A key id as the 8 lowercase hex digits used in key texts. */
export function formatKeyId(id: number): string {
  return id.toString(16).padStart(8, "0");
}

// name+hash+base64(type ‖ key), checking every part and that hash is the key's id.
export function parseKeyParts(what: string, name: string, hash: string, encoded: string, type: number = ED25519_TYPE): Uint8Array {
  requireName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(hash)) throw new NoteError("KEY_MALFORMED", `${what} key hash ${JSON.stringify(hash)} is not 8 hex digits`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(encoded);
  } catch {
    throw new NoteError("KEY_MALFORMED", `${what} key material is not standard base64`);
  }
  if (bytes.length !== 33 || bytes[0] !== type) {
    throw new NoteError("KEY_MALFORMED", `${what} key must be 0x0${type} followed by 32 bytes (Ed25519), got ${bytes.length} bytes of type ${bytes[0] ?? "none"}`, {
      length: bytes.length,
    });
  }
  return bytes.subarray(1);
}

export function requireKeyId(what: string, name: string, hash: string, publicKey: Uint8Array, type: number = ED25519_TYPE): void {
  const id = keyId(name, publicKey, type);
  if (Number.parseInt(hash, 16) !== id) {
    throw new NoteError("KEY_MALFORMED", `${what} key hash ${hash} does not match its key (want ${formatKeyId(id)})`, { hash, want: formatKeyId(id) });
  }
}

// Splits at the first count−1 "+" signs: the base64 key at the end may itself contain "+".
export function splitKey(text: string, count: number): string[] | undefined {
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
 * Parses a verifier key `name+hash+base64(0x01 ‖ publicKey)` without making a verifier of it.
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseVerifierKeyText(text: string, type: number = ED25519_TYPE): VerifierKeyParts {
  const parts = splitKey(text, 3);
  if (parts === undefined) throw new NoteError("KEY_MALFORMED", "verifier key must be name+hash+base64");
  const [name, hash, encoded] = parts as [string, string, string];
  const publicKey = parseKeyParts("verifier", name, hash, encoded, type).slice();
  requireKeyId("verifier", name, hash, publicKey, type);
  return { name, keyId: Number.parseInt(hash, 16), publicKey };
}

/** The signature type byte a verifier key text declares (0x01, 0x04, …), or undefined if unreadable. */
export function verifierKeyType(text: string): number | undefined {
  const encoded = splitKey(text, 3)?.[2];
  if (encoded === undefined) return undefined;
  try {
    return decodeBase64(encoded)[0];
  } catch {
    return undefined;
  }
}

/** A verifier key text: `name+hash+base64(type ‖ publicKey)`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, type: number = ED25519_TYPE): string {
  requireName(name);
  return `${name}+${formatKeyId(keyId(name, publicKey, type))}+${encodeBase64(concatBytes(new Uint8Array([type]), publicKey))}`;
}
