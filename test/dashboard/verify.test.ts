/**
 * The dashboard's browser verifier (dashboard/verify) against real logs built by shared/log: sealed
 * records appended to a MerkleTree, a checkpoint signed with shared/checkpoint, proofs in the
 * documents the edge serves — then each kind of tampering, which must fail at the right step with
 * a reason a person understands.
 */
import { describe, expect, it } from "vitest";
import { agentLogOrigin, agentLogVerifierKey, signCheckpoint, witnessName } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { MemoryNodeStore, MerkleTree, encodeLogEntry, encodeRecord, inclusionProofDocument, sealRecord, type LogEntry, type SealedRecord } from "../../shared/log/index.js";
import { cosign, cosignatureLine } from "../../shared/note/cosignature.js";
import { generateSignerKey, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { verifyCheckpoint, verifyEntry, type EntryVerdict } from "../../dashboard/verify/index.js";

const ORIGIN = "becomingone.local/fleet/default";
const agentSeed = new Uint8Array(32).fill(7);
const keys = generateSignerKey("becomingone-edge", new Uint8Array(32).fill(1));
const otherKeys = generateSignerKey("becomingone-edge", new Uint8Array(32).fill(2));

function entryJson(index: number, r: SealedRecord) {
  return {
    index,
    agentId: r.agentId,
    seq: r.seq,
    leaf: encodeBase64(encodeRecord(r)),
    record: { kind: r.kind, timestamp: r.timestamp, payloadJson: r.payloadJson, signature: encodeBase64(r.signature) },
  };
}

/** A log of `n` records, a signed checkpoint at `size` (default n), and a helper for proofs. */
function buildLog(n: number, size = n) {
  const tree = MerkleTree.open(new MemoryNodeStore());
  const records: SealedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r = sealRecord(
      { agentId: `ag_${"ab".repeat(16)}`, seq: i, kind: i % 3 === 0 ? "sync.collapse" : "witness", timestamp: 1_796_518_800_000 + i, payloadJson: JSON.stringify({ i }) },
      agentSeed,
    );
    records.push(r);
    tree.append(encodeRecord(r));
  }
  const note = signCheckpoint({ origin: ORIGIN, size, root: tree.root(size) }, [parseSignerKey(keys.signerKey)]);
  const proof = (index: number, at = size) => inclusionProofDocument(tree.leafHash(index), index, at, tree.inclusionProof(index, at), tree.root(at));
  return { tree, records, note, proof, entry: (i: number) => entryJson(i, records[i]!) };
}

function failure(v: EntryVerdict): { step: string; reason: string } {
  if (v.ok) throw new Error("expected a failure");
  return { step: v.step, reason: v.reason };
}

describe("verifyEntry on real proofs", () => {
  it("verifies every entry of logs of many sizes, and reports the facts", () => {
    for (const n of [1, 2, 3, 7, 8, 13, 64, 100]) {
      const log = buildLog(n);
      for (let i = 0; i < n; i++) {
        const v = verifyEntry({ keyText: `${keys.verifierKey}\n`, checkpointNote: log.note, entry: log.entry(i), proof: log.proof(i), origin: ORIGIN });
        expect(v.ok, `n=${n} i=${i}: ${v.ok ? "" : v.reason}`).toBe(true);
        expect(v.facts.proofLength).toBe(log.proof(i).proof.length);
        expect(v.facts.checkpoint?.size).toBe(n);
        expect(v.steps.map((s) => s.id)).toEqual(["key", "checkpoint-signature", "checkpoint-body", "entry", "leaf-hash", "proof-size", "proof-index", "inclusion"]);
      }
    }
  });

  it("a checkpoint signed by another key: the signature does not verify with the log key", () => {
    const log = buildLog(5);
    const forged = signCheckpoint({ origin: ORIGIN, size: 5, root: log.tree.root() }, [parseSignerKey(otherKeys.signerKey)]);
    // Same name, another key: a different key id, so it is "no signature by the log key".
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: forged, entry: log.entry(1), proof: log.proof(1) }));
    expect(f.step).toBe("checkpoint-signature");
    expect(f.reason).toMatch(/no signature by key becomingone-edge\+/);
  });

  it("a checkpoint whose signature bytes were altered: signature does not verify with key …", () => {
    const log = buildLog(5);
    const lines = log.note.split("\n");
    const sigLine = lines.findIndex((l) => l.startsWith("\u2014 "));
    const [dash, name, b64] = lines[sigLine]!.split(" ") as [string, string, string];
    const raw = Buffer.from(b64, "base64");
    raw[10] ^= 1;
    lines[sigLine] = `${dash} ${name} ${raw.toString("base64")}`;
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: lines.join("\n"), entry: log.entry(1), proof: log.proof(1) }));
    expect(f).toEqual({ step: "checkpoint-signature", reason: expect.stringMatching(/^signature does not verify with key becomingone-edge\+[0-9a-f]{8}$/) });
  });

  it("a checkpoint text altered after signing (another root) fails on the signature", () => {
    const log = buildLog(6);
    const other = buildLog(7).tree.root(7);
    const tampered = log.note.replace(encodeBase64(log.tree.root()), encodeBase64(other));
    expect(tampered).not.toBe(log.note);
    expect(failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: tampered, entry: log.entry(0), proof: log.proof(0) })).step).toBe("checkpoint-signature");
  });

  it("a malformed log key is named", () => {
    const log = buildLog(3);
    const f = failure(verifyEntry({ keyText: "not-a-key", checkpointNote: log.note, entry: log.entry(0), proof: log.proof(0) }));
    expect(f.step).toBe("key");
    expect(f.reason).toMatch(/log key is malformed/);
  });

  it("a checkpoint of another origin is refused when the origin is pinned", () => {
    const log = buildLog(3);
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(0), proof: log.proof(0), origin: "other/log" }));
    expect(f.step).toBe("checkpoint-body");
    expect(f.reason).toMatch(/another log/);
  });

  it("a tampered proof hash: proof does not lead to the checkpoint root", () => {
    const log = buildLog(13);
    const proof = log.proof(5);
    const hashes = [...proof.proof];
    const b = Buffer.from(hashes[1]!, "base64");
    b[0] ^= 0x80;
    hashes[1] = b.toString("base64");
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(5), proof: { ...proof, proof: hashes } }));
    expect(f.step).toBe("inclusion");
    expect(f.reason).toMatch(/^proof does not lead to the checkpoint root/);
  });

  it("a proof whose own root agrees with it but not with the signed checkpoint still fails", () => {
    // Another tree with the same leaf at index 2 and other leaves around it: its (proof, root) pair
    // is self-consistent, but only the signed root counts.
    const log = buildLog(8);
    const evil = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 8; i++) evil.append(i === 2 ? encodeRecord(log.records[2]!) : new Uint8Array([0xee, i]));
    const evilProof = inclusionProofDocument(evil.leafHash(2), 2, 8, evil.inclusionProof(2, 8), evil.root(8));
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(2), proof: evilProof }));
    expect(f.step).toBe("inclusion");
    expect(f.reason).toMatch(/^proof does not lead to the checkpoint root/);
  });

  it("tampered entry bytes: entry bytes do not hash to the proven leaf", () => {
    const log = buildLog(10);
    const e = log.entry(4);
    const bytes = Buffer.from(e.leaf, "base64");
    // Change one byte of the payload JSON ({"i":4} → {"i":5}) so the bytes still decode.
    const at = bytes.indexOf(Buffer.from('{"i":4}')) + 5;
    bytes[at] = "5".charCodeAt(0);
    const tampered = { ...e, leaf: bytes.toString("base64"), record: { ...e.record, payloadJson: '{"i":5}' } };
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: tampered, proof: log.proof(4) }));
    expect(f.step).toBe("leaf-hash");
    expect(f.reason).toMatch(/^entry bytes do not hash to the proven leaf/);
  });

  it("fields shown that differ from the entry's bytes are caught", () => {
    const log = buildLog(4);
    const e = log.entry(2);
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: { ...e, record: { ...e.record, payloadJson: '{"i":99}' } }, proof: log.proof(2) }));
    expect(f).toEqual({ step: "entry", reason: "the entry's payload shown differs from the payload in its bytes" });
    const g = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: { ...e, agentId: "ag_other" }, proof: log.proof(2) }));
    expect(g.reason).toMatch(/agentId/);
  });

  it("bytes that are not a record are named", () => {
    const log = buildLog(4);
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: { ...log.entry(1), leaf: encodeBase64(new Uint8Array([9, 9, 9])) }, proof: log.proof(1) }));
    expect(f.step).toBe("entry");
    expect(f.reason).toMatch(/not a well-formed record/);
  });

  it("a proof for another size: proof is for size X but the checkpoint is size Y", () => {
    const log = buildLog(12, 10);
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(3), proof: log.proof(3, 12) }));
    expect(f).toEqual({ step: "proof-size", reason: "proof is for size 12 but the checkpoint is size 10" });
  });

  it("a proof for another leaf", () => {
    const log = buildLog(12);
    // The proof of leaf 3 relabelled as leaf 4, with leaf 4's hash: the index check names both.
    const p = { ...log.proof(3), leafIdx: 4, leafHash: log.proof(4).leafHash };
    const f = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(3), proof: p }));
    expect(f.step).toBe("leaf-hash");
    const q = { ...log.proof(3), leafIdx: 4 };
    expect(failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(3), proof: q }))).toEqual({
      step: "proof-index",
      reason: "proof is for leaf 4 but the entry is leaf 3",
    });
  });

  it("a proof with a missing or extra hash is malformed, with the numbers", () => {
    const log = buildLog(13);
    const p = log.proof(6);
    const short = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(6), proof: { ...p, proof: p.proof.slice(1) } }));
    expect(short.step).toBe("inclusion");
    expect(short.reason).toMatch(/PROOF_LENGTH.*want 4/);
    const long = failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(6), proof: { ...p, proof: [...p.proof, p.proof[0]!] } }));
    expect(long.reason).toMatch(/PROOF_LENGTH/);
  });

  it("hostile shapes are reasons, never exceptions", () => {
    const log = buildLog(3);
    const base = { keyText: keys.verifierKey, checkpointNote: log.note };
    for (const [entry, proof] of [
      [null, log.proof(0)],
      [{ ...log.entry(0), index: -1 }, log.proof(0)],
      [{ ...log.entry(0), leaf: "###" }, log.proof(0)],
      [log.entry(0), "nope"],
      [log.entry(0), { ...log.proof(0), proof: new Array(100).fill(log.proof(0).proof[0]) }],
      [log.entry(0), { ...log.proof(0), leafHash: "AAAA" }],
      [log.entry(0), { ...log.proof(0), proof: [42] }],
      [log.entry(0), { ...log.proof(0), treeSize: 2 ** 60 }],
    ] as const) {
      const v = verifyEntry({ ...base, entry, proof });
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason.length).toBeGreaterThan(10);
    }
    expect(verifyCheckpoint(keys.verifierKey, "garbage").ok).toBe(false);
    expect(verifyCheckpoint(keys.verifierKey, "").ok).toBe(false);
  });
});

describe("the record's own signature (agent detail)", () => {
  it("verifies under the agent's key and fails, as the last step, under another", () => {
    const log = buildLog(6);
    const input = { keyText: keys.verifierKey, checkpointNote: log.note, entry: log.entry(3), proof: log.proof(3) };
    const good = verifyEntry({ ...input, agentPublicKey: ed25519.getPublicKey(agentSeed) });
    expect(good.ok).toBe(true);
    expect(good.steps.at(-1)?.id).toBe("record-signature");
    const other = verifyEntry({ ...input, agentPublicKey: ed25519.getPublicKey(new Uint8Array(32).fill(9)) });
    expect(failure(other)).toEqual({ step: "record-signature", reason: `the record's signature does not verify with the key of agent ag_${"ab".repeat(16)}` });
    // Without a key the record signature is not a step at all.
    expect(verifyEntry(input).steps.some((s) => s.id === "record-signature")).toBe(false);
  });
});

describe("verifyCheckpoint", () => {
  it("reports size, root and signer of a good checkpoint", () => {
    const log = buildLog(21);
    const v = verifyCheckpoint(keys.verifierKey, log.note, ORIGIN);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.checkpoint.size).toBe(21);
    expect(v.checkpoint.rootBase64).toBe(encodeBase64(log.tree.root()));
    expect(v.checkpoint.signedBy).toBe(keys.verifierKey.split("+").slice(0, 2).join("+"));
  });
});

describe("entries that are not records (key entries, agent checkpoints)", () => {
  /** A log whose entries are a key entry, a record and an agent checkpoint, and their JSON as the edge serves it. */
  function mixedLog() {
    const agentId = `ag_${"ab".repeat(16)}`;
    const publicKey = ed25519.getPublicKey(agentSeed);
    const record = sealRecord({ agentId, seq: 0, kind: "witness", timestamp: 1_796_518_800_000, payloadJson: "{}" }, agentSeed);
    const agentTree = MerkleTree.open(new MemoryNodeStore());
    agentTree.append(encodeRecord(record));
    const agentOrigin = agentLogOrigin(ORIGIN, agentId);
    const agentNote = signCheckpoint({ origin: agentOrigin, size: 1, root: agentTree.root() }, [
      {
        name: agentOrigin,
        keyId: parseVerifierKey(agentLogVerifierKey(ORIGIN, agentId, publicKey)).keyId,
        verifierKey: agentLogVerifierKey(ORIGIN, agentId, publicKey),
        sign: (m: Uint8Array) => ed25519.sign(m, agentSeed),
      },
    ]);
    const entries: LogEntry[] = [
      { type: "key", event: "enrolled", agentId, publicKey, timestamp: 1_796_518_700_000 },
      { type: "record", record },
      { type: "agent-checkpoint", agentId, note: agentNote },
    ];
    const tree = MerkleTree.open(new MemoryNodeStore());
    for (const e of entries) tree.append(encodeLogEntry(e));
    const note = signCheckpoint({ origin: ORIGIN, size: 3, root: tree.root() }, [parseSignerKey(keys.signerKey)]);
    const proof = (index: number) => inclusionProofDocument(tree.leafHash(index), index, 3, tree.inclusionProof(index, 3), tree.root());
    const json = [
      { type: "key", index: 0, agentId, leaf: encodeBase64(encodeLogEntry(entries[0]!)), key: { event: "enrolled", publicKey: encodeBase64(publicKey), timestamp: 1_796_518_700_000 } },
      { type: "record", ...entryJson(1, record) },
      { type: "agent-checkpoint", index: 2, agentId, leaf: encodeBase64(encodeLogEntry(entries[2]!)), checkpoint: { size: 1, note: agentNote } },
    ];
    return { note, proof, json, publicKey };
  }

  it("verifies the inclusion of each type, naming what the entry is", () => {
    const log = mixedLog();
    const details = log.json.map((entry, i) => {
      const v = verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry, proof: log.proof(i), origin: ORIGIN, agentPublicKey: log.publicKey });
      expect(v.ok, v.reason).toBe(true);
      return v.steps.find((s) => s.id === "entry")!.detail;
    });
    expect(details[0]).toMatch(/^entry 0: key entry \(enrolled\) of ag_/);
    expect(details[1]).toMatch(/^entry 1: witness record 0 of ag_/);
    expect(details[2]).toMatch(/^entry 2: checkpoint of ag_[0-9a-f]{32}'s own log \(size 1\)/);
  });

  it("a field shown that the bytes do not hold, or another type, fails at the entry step", () => {
    const log = mixedLog();
    const [key, , checkpoint] = log.json as [any, any, any];
    const check = (entry: unknown, index: number) => failure(verifyEntry({ keyText: keys.verifierKey, checkpointNote: log.note, entry, proof: log.proof(index) }));
    expect(check({ ...key, key: { ...key.key, event: "revoked" } }, 0)).toEqual({ step: "entry", reason: "the entry's event shown differs from the event in its bytes" });
    expect(check({ ...key, key: { ...key.key, publicKey: encodeBase64(new Uint8Array(32)) } }, 0).reason).toMatch(/public key shown differs/);
    expect(check({ ...checkpoint, checkpoint: { ...checkpoint.checkpoint, size: 7 } }, 2)).toEqual({ step: "entry", reason: "the entry's size shown differs from the size in its bytes" });
    expect(check({ ...checkpoint, type: "key", key: key.key }, 2)).toEqual({ step: "entry", reason: "the entry is shown as a key entry but its bytes are an agent checkpoint" });
    expect(check({ ...key, type: "mystery" }, 0).reason).toMatch(/type "mystery" is not one this page knows/);
  });

  it("a published checkpoint with witness cosignature lines still verifies with the log key alone", () => {
    const log = buildLog(5);
    const agentId = `ag_${"cd".repeat(16)}`;
    const body = log.note.slice(0, log.note.indexOf("\n\n") + 1);
    const witness = witnessName(ORIGIN, agentId);
    const line = cosignatureLine(witness, cosign(body, witness, ed25519.getPublicKey(agentSeed), 1_796_518_800, (m) => ed25519.sign(m, agentSeed)));
    const published = log.note + line;
    const v = verifyCheckpoint(keys.verifierKey, published, ORIGIN);
    expect(v.ok && v.checkpoint.size).toBe(5);
    expect(v.ok && v.checkpoint.otherSignatures).toBe(1);
    expect(verifyCheckpoint(keys.verifierKey, log.note, ORIGIN)).toMatchObject({ ok: true, checkpoint: { otherSignatures: 0 } });
    expect(verifyEntry({ keyText: keys.verifierKey, checkpointNote: published, entry: log.entry(2), proof: log.proof(2) }).ok).toBe(true);
  });
});
