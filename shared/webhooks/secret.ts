import { decodeBase64, encodeBase64 } from "../encoding/base64.js";

/**
 * Endpoint secrets in the Standard Webhooks text form: `whsec_` + standard base64 of 24–64 random
 * bytes. The bytes are the HMAC-SHA256 key; the text is what the operator copies into a receiver.
 */
export const SECRET_PREFIX = "whsec_";
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
/** What we generate: 256 bits, the HMAC-SHA256 block-friendly size the spec recommends. */
export const SECRET_GENERATED_BYTES = 32;

/** A new secret text from the platform's CSPRNG (WebCrypto). */
export function generateSecret(bytes: number = SECRET_GENERATED_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < SECRET_MIN_BYTES || bytes > SECRET_MAX_BYTES) {
    throw new RangeError(`a secret has ${SECRET_MIN_BYTES}-${SECRET_MAX_BYTES} bytes`);
  }
  return SECRET_PREFIX + encodeBase64(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * The key bytes of a `whsec_…` text.
 * @throws TypeError when the prefix, the base64 or the length is wrong
 */
export function parseSecret(text: string): Uint8Array {
  if (!text.startsWith(SECRET_PREFIX)) throw new TypeError(`a secret starts with ${SECRET_PREFIX}`);
  const encoded = text.slice(SECRET_PREFIX.length);
  if (encoded.length > 4 * Math.ceil(SECRET_MAX_BYTES / 3)) throw new TypeError("secret too long");
  let key: Uint8Array;
  try {
    key = decodeBase64(encoded);
  } catch {
    throw new TypeError("a secret is whsec_ followed by standard padded base64");
  }
  if (key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) {
    throw new TypeError(`a secret has ${SECRET_MIN_BYTES}-${SECRET_MAX_BYTES} bytes, this one ${key.length}`);
  }
  return key;
}
