import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Base64Error, decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { decodeHex, encodeHex } from "../../shared/encoding/hex.js";
import { decodeUtf8, isWellFormedText } from "../../shared/encoding/utf8.js";

describe("base64 (RFC 4648 §4, strict)", () => {
  it("agrees with Node's Buffer and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64"));
        expect(decodeBase64(text)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
  it("rejects non-canonical text", () => {
    for (const bad of ["A", "AB", "ABC", "A===", "====", "AB=C", "AB-_", "AB C", "QR==", "QUI=QUI=", "QUJD\n"]) {
      expect(() => decodeBase64(bad), bad).toThrow(Base64Error);
    }
    expect(decodeBase64("")).toEqual(new Uint8Array());
    expect(decodeBase64("QQ==")).toEqual(new Uint8Array([65]));
  });
});

describe("hex and utf8", () => {
  it("hex round-trips and rejects junk", () => {
    expect(encodeHex(new Uint8Array([0, 15, 255]))).toBe("000fff");
    expect(decodeHex("000FfF")).toEqual(new Uint8Array([0, 15, 255]));
    expect(() => decodeHex("abc")).toThrow();
    expect(() => decodeHex("zz")).toThrow();
  });
  it("utf8 decoding is fatal; lone surrogates are detected", () => {
    expect(decodeUtf8(new Uint8Array([0xc3, 0xa9]))).toBe("é");
    expect(decodeUtf8(new Uint8Array([0xc3]))).toBeUndefined();
    expect(isWellFormedText("a\ud83d\ude00b")).toBe(true);
    expect(isWellFormedText("a\ud83d")).toBe(false);
    expect(isWellFormedText("\ude00")).toBe(false);
  });
});
