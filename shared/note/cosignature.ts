/**
 * C2SP tlog-cosignature, `cosignature/v1` with Ed25519 (signature type 0x04): a witness's statement
 * that, as of a time, the checkpoint is the largest consistent tree head it has seen for that log.
 *
 *   key id      SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4]
 *   signature   u64 timestamp (POSIX seconds, big-endian) ‖ Ed25519 signature (64 bytes)
 *   message     "cosignature/v1\n" ‖ "time " <timestamp decimal> "\n" ‖ checkpoint body
 *   line        "— <name> " base64(key id ‖ signature) "\n"
 *
 * The header line separates these signatures from any other made with the same key: an agent's
 * device key also signs records (prefix "becomingone/record/v1\0"), its own checkpoints (bodies
 * that start with its log's origin) and JWTs (base64url text), none of which can start this way.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBase64 } from "../encoding/base64.js";
import { decodeUtf8, encodeUtf8 } from "../encoding/utf8.js";
import { NoteError } from "./errors.js";
import { formatVerifierKey, keyId, parseVerifierKeyText, requireName, type NoteVerifier } from "./key-text.js";

/** The signature type of Ed25519 cosignatures (C2SP tlog-cosignature). */
export const COSIGNATURE_TYPE = 0x04;
/** Timestamp ‖ Ed25519 signature: the bytes after the key id. */
export const COSIGNATURE_BYTES = 8 + 64;

/** Key id of a cosigner: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ publicKey)[:4], big-endian. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  return keyId(name, publicKey, COSIGNATURE_TYPE);
}

/** The signed message: the two header lines, then the checkpoint body (its final newline included). */
export function cosignedMessage(checkpointBody: string, timestampSec: number): Uint8Array {
  requireTimestamp(timestampSec);
  return encodeUtf8(`cosignature/v1\ntime ${timestampSec}\n${checkpointBody}`);
}

/**
 * A cosignature as it travels: key id ‖ timestamp ‖ signature (76 bytes). `sign` is the cosigner's
 * Ed25519 signing function (node:crypto on the agent, noble in tests).
 */
export function cosign(checkpointBody: string, name: string, publicKey: Uint8Array, timestampSec: number, sign: (message: Uint8Array) => Uint8Array): Uint8Array {
  requireName(name);
  const signature = sign(cosignedMessage(checkpointBody, timestampSec));
  if (signature.length !== 64) throw new NoteError("KEY_MALFORMED", `an Ed25519 signature is 64 bytes, got ${signature.length}`);
  const out = new Uint8Array(4 + COSIGNATURE_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, cosignatureKeyId(name, publicKey));
  view.setUint32(4, Math.floor(timestampSec / 2 ** 32));
  view.setUint32(8, timestampSec >>> 0);
  out.set(signature, 12);
  return out;
}

/** The note signature line of a cosignature (key id ‖ timestamp ‖ signature). */
export function cosignatureLine(name: string, signature76: Uint8Array): string {
  requireName(name);
  return `— ${name} ${encodeBase64(signature76)}\n`;
}

/** The timestamp of a cosignature's 72 bytes (timestamp ‖ signature), or undefined if malformed. */
export function cosignatureTimestamp(signature72: Uint8Array): number | undefined {
  if (signature72.length !== COSIGNATURE_BYTES) return undefined;
  const view = new DataView(signature72.buffer, signature72.byteOffset, 8);
  const high = view.getUint32(0);
  if (high >= 2 ** 21) return undefined; // beyond 2^53: no such time here
  return high * 2 ** 32 + view.getUint32(4);
}

/** A note verifier for one cosigner's cosignatures (openNote hands it the 72 bytes after the key id). */
export function cosignatureVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  requireName(name);
  if (publicKey.length !== 32) throw new NoteError("KEY_MALFORMED", `an Ed25519 public key is 32 bytes, got ${publicKey.length}`);
  const key = publicKey.slice();
  return {
    name,
    keyId: cosignatureKeyId(name, key),
    publicKey: key,
    verify(message, signature) {
      const timestamp = cosignatureTimestamp(signature);
      if (timestamp === undefined) return false;
      const body = decodeUtf8(message);
      if (body === undefined) return false;
      try {
        return ed25519.verify(signature.subarray(8), cosignedMessage(body, timestamp), key, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

/** A cosigner's verifier key text: `name+hash+base64(0x04 ‖ publicKey)`. */
export function cosignerVerifierKey(name: string, publicKey: Uint8Array): string {
  requireName(name);
  return formatVerifierKey(name, publicKey, COSIGNATURE_TYPE);
}

/**
 * Parses a cosigner verifier key (type 0x04) into a verifier.
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseCosignerKey(text: string): NoteVerifier {
  const parts = parseVerifierKeyText(text, COSIGNATURE_TYPE);
  return cosignatureVerifier(parts.name, parts.publicKey);
}

function requireTimestamp(timestampSec: number): void {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new NoteError("TEXT_INVALID", `a cosignature timestamp is a non-negative integer of seconds, got ${timestampSec}`);
  }
}
