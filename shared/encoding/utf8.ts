/** UTF-8 with strict decoding: malformed bytes are an error, never silently replaced. */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Encodes a string as UTF-8. Lone surrogates would become U+FFFD: check `isWellFormed` first where it matters. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8, returning undefined for malformed input. A leading byte-order mark is kept as
 * U+FEFF (not stripped), so decode then encode gives back the same bytes.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** True when the string has no lone surrogates, i.e. it encodes to UTF-8 and back unchanged. */
export function isWellFormedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}
