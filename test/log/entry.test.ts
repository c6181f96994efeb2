import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeHex } from "../../shared/encoding/hex.js";
import {
  LogError,
  MemoryNodeStore,
  MerkleTree,
  decodeRecord,
  encodeRecord,
  hashLeaf,
  recordLeafHash,
  recordSigningInput,
  sealRecord,
  verifyInclusion,
  verifyRecordSignature,
  type RecordFields,
} from "../../shared/log/index.js";
import { thrown } from "./thrown.js";

// A fixed key (RFC 8032 test 1 secret key) so the golden bytes below are stable.
const secretKey = Uint8Array.from(Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"));
const publicKey = ed25519.getPublicKey(secretKey);

const fields: RecordFields = {
  agentId: "pi-07",
  seq: 3,
  kind: "collapse",
  timestamp: 1_764_115_200_000, // 2025-11-26T00:00:00.000Z
  payloadJson: '{"coherence":0.93,"note":"é"}',
};

const errorOf = (run: () => unknown): LogError => thrown(LogError, run);

describe("canonical record encoding", () => {
  it("lays out the documented bytes", () => {
    const record = sealRecord(fields, secretKey);
    const bytes = encodeRecord(record);
    const payload = Buffer.from(fields.payloadJson, "utf8");
    const expected = Buffer.concat([
      Buffer.from([0x01]), // tag: agent record v1
      Buffer.from([0x00, 0x05]), // agentId length
      Buffer.from("pi-07", "ascii"),
      Buffer.from("0000000000000003", "hex"), // seq
      Buffer.from([0x08]), // kind length
      Buffer.from("collapse", "ascii"),
      Buffer.from("0000019abd75b800", "hex"), // timestamp 1764115200000
      Buffer.from([0, 0, 0, payload.length]),
      payload,
      Buffer.from(record.signature),
    ]);
    expect(encodeHex(bytes)).toBe(expected.toString("hex"));
    // The signing input is the context string, a zero byte, and the same bytes without the signature.
    const input = recordSigningInput(fields);
    expect(Buffer.from(input).toString("hex")).toBe(
      Buffer.concat([Buffer.from("becomingone/record/v1\0", "ascii"), expected.subarray(0, expected.length - 64)]).toString("hex"),
    );
  });

  it("matches the worked example in docs/log.md", () => {
    const record = sealRecord(fields, secretKey);
    expect(encodeHex(encodeRecord(record))).toBe(
      "01000570692d3037000000000000000308636f6c6c617073650000019abd75b8000000001e7b22636f686572656e6365223a302e39332c226e6f7465223a22c3a9227d" +
        "b3bcfd7406b514313d9bd7600eeaceaedd7fa387497d1aba986cec16c8ef3010297145fa88f251bee93f790201f86ddb3ef01bc9ba8cac10d55c8e0d37755b0a",
    );
    expect(encodeHex(recordLeafHash(record))).toBe("d65be45318e6f92168e548edab61ca63305bb4f77e0ca5c228553de9b31b5c02");
  });

  it("round-trips and the leaf hash is RFC 6962 over the entry bytes", () => {
    const record = sealRecord(fields, secretKey);
    const bytes = encodeRecord(record);
    const back = decodeRecord(bytes);
    expect(back).toEqual(record);
    expect(encodeHex(encodeRecord(back))).toBe(encodeHex(bytes));
    expect(encodeHex(recordLeafHash(record))).toBe(encodeHex(hashLeaf(bytes)));
  });

  it("the same record bytes have the same leaf hash in an agent log and a global log", () => {
    const record = sealRecord(fields, secretKey);
    const agentLog = MerkleTree.open(new MemoryNodeStore());
    const globalLog = MerkleTree.open(new MemoryNodeStore());
    agentLog.append(encodeRecord({ ...record, seq: 3 }));
    globalLog.append(new Uint8Array([9])); // someone else's entry first
    const at = globalLog.append(encodeRecord(decodeRecord(encodeRecord(record))));
    expect(encodeHex(agentLog.leafHash(0))).toBe(encodeHex(globalLog.leafHash(at)));
    verifyInclusion(recordLeafHash(record), at, globalLog.size, globalLog.inclusionProof(at), globalLog.root());
  });

  it("signature verifies under the agent key and fails for any changed field", () => {
    const record = sealRecord(fields, secretKey);
    expect(verifyRecordSignature(record, publicKey)).toBe(true);
    expect(verifyRecordSignature({ ...record, seq: 4 }, publicKey)).toBe(false);
    expect(verifyRecordSignature({ ...record, payloadJson: '{"coherence":0.94,"note":"é"}' }, publicKey)).toBe(false);
    expect(verifyRecordSignature({ ...record, kind: "memory" }, publicKey)).toBe(false);
    expect(verifyRecordSignature(record, ed25519.getPublicKey(new Uint8Array(32).fill(7)))).toBe(false);
    expect(verifyRecordSignature({ ...record, agentId: "bad id" }, publicKey)).toBe(false); // invalid, not a throw
  });

  it("rejects fields that break the rules, naming the field", () => {
    const bad: [Partial<RecordFields>, string][] = [
      [{ agentId: "" }, "agentId"],
      [{ agentId: "has space" }, "agentId"],
      [{ agentId: "x".repeat(129) }, "agentId"],
      [{ seq: -1 }, "seq"],
      [{ seq: 2 ** 53 }, "seq"],
      [{ kind: "Collapse" }, "kind"],
      [{ timestamp: 1.5 }, "timestamp"],
      [{ payloadJson: "" }, "payloadJson"],
      [{ payloadJson: "{not json" }, "payloadJson"],
      [{ payloadJson: '"\ud800"' }, "payloadJson"],
      [{ payloadJson: JSON.stringify("x".repeat(70_000)) }, "payloadJson"],
    ];
    for (const [change, field] of bad) {
      const err = errorOf(() => sealRecord({ ...fields, ...change }, secretKey));
      expect(err.code).toBe("ENTRY_INVALID");
      expect(err.details["field"]).toBe(field);
    }
  });

  it("decoding is strict: wrong tag, truncation, trailing bytes", () => {
    const bytes = encodeRecord(sealRecord(fields, secretKey));
    const withTag = bytes.slice();
    withTag[0] = 2;
    expect(errorOf(() => decodeRecord(withTag)).details["field"]).toBe("tag");
    for (const cut of [0, 1, 5, 20, bytes.length - 1]) expect(errorOf(() => decodeRecord(bytes.subarray(0, cut))).code).toBe("ENTRY_INVALID");
    expect(errorOf(() => decodeRecord(new Uint8Array([...bytes, 0]))).details["field"]).toBe("bytes");
    const hugeSeq = bytes.slice();
    hugeSeq[8] = 0xff; // high byte of seq: beyond 2^53
    expect(errorOf(() => decodeRecord(hugeSeq)).details["field"]).toBe("seq");
  });

  it("decode accepts exactly the canonical forms: for any byte changed, it throws or re-encodes to the same bytes", () => {
    const bytes = encodeRecord(sealRecord(fields, secretKey));
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const changed = bytes.slice();
        changed[at]! ^= xor;
        let decoded;
        try {
          decoded = decodeRecord(changed);
        } catch (err) {
          expect((err as LogError).code).toBe("ENTRY_INVALID");
          return;
        }
        expect(encodeHex(encodeRecord(decoded))).toBe(encodeHex(changed));
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it("random valid records round-trip", () => {
    const field = fc.record({
      agentId: fc.stringMatching(/^[\x21-\x7e]{1,128}$/),
      seq: fc.maxSafeNat(),
      kind: fc.stringMatching(/^[a-z0-9._-]{1,64}$/),
      timestamp: fc.maxSafeNat(),
      payloadJson: fc.jsonValue().map((v) => JSON.stringify(v)),
    });
    fc.assert(
      fc.property(field, fc.uint8Array({ minLength: 64, maxLength: 64 }), (f, signature) => {
        const record = { ...f, signature };
        expect(decodeRecord(encodeRecord(record))).toEqual(record);
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});
