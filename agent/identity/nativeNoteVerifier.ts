import { createPublicKey, verify } from "node:crypto";
import type { NoteVerifier, VerifierKeyParts } from "../../shared/note/key-text.js";

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/**
 * The same note verifier with its signature check done by node:crypto (OpenSSL) instead of the
 * portable pure-JS one: about 30× faster per signature, which matters on a Pi that checks a
 * global checkpoint every second. Name, key id and key are unchanged.
 */
export function nativeNoteVerifier(verifier: VerifierKeyParts): NoteVerifier {
  const spki = new Uint8Array(ED25519_SPKI_PREFIX.length + verifier.publicKey.length);
  spki.set(ED25519_SPKI_PREFIX);
  spki.set(verifier.publicKey, ED25519_SPKI_PREFIX.length);
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  return {
    name: verifier.name,
    keyId: verifier.keyId,
    publicKey: verifier.publicKey,
    verify(message, signature) {
      try {
        return signature.length === 64 && verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}
