import { recordSigningInput, type SealedRecord } from "../../shared/log/index.js";

/**
 * Record signature checks with the runtime's native Ed25519 (WebCrypto, BoringSSL in workerd): about
 * ten times faster than the pure-JS verifier, which bounds how many records one Fleet object can take.
 * A signature whose scalar S is not reduced (S ≥ L) is refused first, as the shared strict verifier
 * does, so the edge never accepts a malleated signature that an auditor's check would reject.
 */

// The order of the Ed25519 base point, little-endian as S is encoded (RFC 8032 §5.1.7).
const L_BYTES = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

/** S < L, compared byte by byte from the most significant (BigInt arithmetic per record showed in profiles). */
export function canonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    const l = L_BYTES[i]!;
    if (s !== l) return s < l;
  }
  return false;
}

export class RecordVerifier {
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  /** A verification key, imported once per object lifetime (keyed by its bytes). */
  #key(publicKey: Uint8Array): Promise<CryptoKey> {
    const id = Array.from(publicKey, (b) => b.toString(16).padStart(2, "0")).join("");
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      this.#keys.set(id, key);
    }
    return key;
  }

  /** True iff the record is signed by `publicKey`. Never throws (a malformed record is false). */
  async verify(record: SealedRecord, publicKey: Uint8Array): Promise<boolean> {
    try {
      if (record.signature.length !== 64 || !canonicalScalar(record.signature)) return false;
      const key = await this.#key(publicKey);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, record.signature, recordSigningInput(record));
    } catch {
      return false;
    }
  }
}
