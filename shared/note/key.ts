/**
 * Ed25519 note keys in the C2SP signed-note / Go sumdb/note text formats (key-text.ts), with the
 * portable pure-JS Ed25519 that runs unchanged in Node and workerd.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBase64 } from "../encoding/base64.js";
import { concatBytes } from "../encoding/bytes.js";
import { NoteError } from "./errors.js";
import {
  ED25519_TYPE,
  formatKeyId,
  keyId,
  parseKeyParts,
  parseVerifierKeyText,
  requireKeyId,
  requireName,
  splitKey,
  type NoteSigner,
  type NoteVerifier,
  type VerifierKeyParts,
  verifierKeyType,
} from "./key-text.js";
import { COSIGNATURE_TYPE, parseCosignerKey } from "./cosignature.js";

export { ED25519_TYPE, formatKeyId, isValidKeyName, keyId, type NoteSigner, type NoteVerifier } from "./key-text.js";

function makeVerifier({ name, keyId, publicKey }: VerifierKeyParts): NoteVerifier {
  return {
    name,
    keyId,
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

/**
 * Parses a verifier key `name+hash+base64(0x01 ‖ publicKey)`, or a cosigner's `…(0x04 ‖ publicKey)`
 * (C2SP tlog-cosignature: its verifier checks cosignature/v1 signatures).
 * @throws NoteError KEY_MALFORMED, KEY_NAME_INVALID
 */
export function parseVerifierKey(text: string): NoteVerifier {
  if (verifierKeyType(text) === COSIGNATURE_TYPE) return parseCosignerKey(text);
  return makeVerifier(parseVerifierKeyText(text));
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
