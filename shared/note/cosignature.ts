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
import { decodeUtf8 } from "../encoding/utf8.js";
import { NoteError } from "./errors.js";
import { parseVerifierKeyText, requireName, type NoteVerifier } from "./key-text.js";
import { COSIGNATURE_TYPE, cosignatureKeyId, cosignatureTimestamp, cosignedMessage } from "./cosignature-core.js";

export {
  COSIGNATURE_TYPE,
  COSIGNATURE_BYTES,
  cosignatureKeyId,
  cosignedMessage,
  cosign,
  cosignatureLine,
  cosignatureTimestamp,
  cosignerVerifierKey,
} from "./cosignature-core.js";

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

/**
 * Parses a cosigner verifier key (type 0x04) into a verifier.
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseCosignerKey(text: string): NoteVerifier {
  const parts = parseVerifierKeyText(text, COSIGNATURE_TYPE);
  return cosignatureVerifier(parts.name, parts.publicKey);
}
