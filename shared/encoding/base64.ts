/**
 * Standard base64 (RFC 4648 §4, with padding), strict on input: the signed-note, checkpoint and
 * proof-vector formats all use it, and a lenient decoder would let two texts mean the same bytes.
 * Pure TypeScript: no Buffer, no atob (so it behaves the same in Node and workerd).
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** A text that is not canonical standard base64. `code` is stable. */
export class Base64Error extends Error {
  override readonly name = "Base64Error";
  readonly code = "BASE64_INVALID";
  constructor(readonly reason: string) {
    super(`invalid base64: ${reason}`);
  }
}

/** Encodes bytes as standard base64 with `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Decodes standard base64. Requires padding, rejects whitespace, the URL-safe alphabet and
 * non-zero padding bits, so every byte string has exactly one accepted text.
 * @throws Base64Error
 */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Base64Error(`length ${text.length} is not a multiple of 4`);
  let pad = 0;
  if (text.endsWith("==")) pad = 2;
  else if (text.endsWith("=")) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? DECODE[c]! : -1;
        if (v < 0) throw new Base64Error(`unexpected character at offset ${i + j}`);
      }
      n = (n << 6) | v;
    }
    const bytes = last ? 3 - pad : 3;
    if (last && pad === 2 && (n & 0xffff) !== 0) throw new Base64Error("non-zero padding bits");
    if (last && pad === 1 && (n & 0xff) !== 0) throw new Base64Error("non-zero padding bits");
    if (bytes >= 1) out[o++] = (n >> 16) & 0xff;
    if (bytes >= 2) out[o++] = (n >> 8) & 0xff;
    if (bytes >= 3) out[o++] = n & 0xff;
  }
  return out;
}
