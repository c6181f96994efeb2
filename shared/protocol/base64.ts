import { decodeBase64, encodeBase64 } from "../encoding/base64.js";

/**
 * Base64 for the protocol: standard padded base64 is shared/encoding's strict codec (one text per
 * byte string); base64url without padding (RFC 4648 §5) is the JWK `x` encoding.
 */

/** Standard base64 with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  return encodeBase64(bytes);
}

/** Strict inverse of {@link bytesToBase64}; throws on anything that is not canonical padded base64. */
export function base64ToBytes(text: string): Uint8Array {
  return decodeBase64(text);
}

/** base64url without padding. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Strict inverse of {@link bytesToBase64Url}: the url alphabet only, no padding, canonical. */
export function base64UrlToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new TypeError("not unpadded base64url");
  }
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return decodeBase64(padded);
}
