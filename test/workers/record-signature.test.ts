/** The edge's native (WebCrypto) record check agrees with the shared strict verifier auditors use. */
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { sealRecord, verifyRecordSignature, type SealedRecord } from "../../shared/log/index.js";
import { RecordVerifier } from "../../edge/fleet/record-signature.js";

const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function withS(signature: Uint8Array, add: bigint): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  s += add;
  const out = signature.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

describe("RecordVerifier", () => {
  it("accepts exactly what the shared strict verifier accepts", async () => {
    const verifier = new RecordVerifier();
    const secretKey = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(secretKey);
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const agentId = "ag_" + "5".repeat(32);
    for (let seq = 0; seq < 20; seq++) {
      const record = sealRecord({ agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq, text: "é".repeat(seq) }) }, secretKey);
      const variants: SealedRecord[] = [
        record,
        { ...record, seq: seq + 1 },
        { ...record, payloadJson: JSON.stringify({ seq: -1 }) },
        { ...record, signature: record.signature.map((b, i) => (i === seq % 64 ? b ^ 1 : b)) },
        { ...record, signature: withS(record.signature, L) },
        { ...record, signature: new Uint8Array(63) },
      ];
      for (const [i, variant] of variants.entries()) {
        const strict = verifyRecordSignature(variant, publicKey);
        expect(await verifier.verify(variant, publicKey), `seq ${seq} variant ${i}`).toBe(strict);
        expect(strict).toBe(i === 0);
      }
      expect(await verifier.verify(record, other), "other key").toBe(false);
    }
  });
});
