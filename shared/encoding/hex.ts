/** Lowercase hexadecimal, strict on input (even length, [0-9a-fA-F] only). No Buffer. */

const DIGITS = "0123456789abcdef";

/** A text that is not hexadecimal. `code` is stable. */
export class HexError extends Error {
  override readonly name = "HexError";
  readonly code = "HEX_INVALID";
  constructor(readonly reason: string) {
    super(`invalid hex: ${reason}`);
  }
}

/** Encodes bytes as lowercase hex. */
export function encodeHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += DIGITS[bytes[i]! >> 4]! + DIGITS[bytes[i]! & 15]!;
  return out;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes hex (either case).
 * @throws HexError
 */
export function decodeHex(text: string): Uint8Array {
  if (text.length % 2 !== 0) throw new HexError(`odd length ${text.length}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(text.charCodeAt(2 * i));
    const lo = nibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new HexError(`non-hex character at offset ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}
