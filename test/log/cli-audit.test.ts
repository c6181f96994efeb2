/**
 * The auditor subcommands as real processes (`node --import tsx agent/cli/main.ts …`):
 * `verify-proof --checkpoint` binds a proof to a signed checkpoint (a forged leaf with a recomputed
 * root passes without it and fails with it), `leaf-hash` and `verify-record`, each with its exit
 * codes 0 / 1 / 2. Hashes are recomputed here with node:crypto, not with the code under test.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { agentLogOrigin, agentLogVerifierKey, witnessVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import {
  MemoryNodeStore,
  MerkleTree,
  consistencyProofDocument,
  encodeAgentCheckpointEntry,
  encodeKeyEntry,
  encodeRecord,
  hashLeaf,
  inclusionProofDocument,
  sealRecord,
} from "../../shared/log/index.js";
import { generateSignerKey, parseSignerKey } from "../../shared/note/index.js";
import { bytesToBase64Url } from "../../shared/protocol/base64.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { runCli } from "../support/cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = runCli;

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** SHA-256(0x00 ‖ bytes) with node:crypto. */
function leafHashNode(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([0])).update(bytes).digest();
}

describe("verify-proof --checkpoint", () => {
  const origin = "becomingone.example/fleet/audit";
  const keys = generateSignerKey(origin);
  const other = generateSignerKey("becomingone.example/other");
  const signer = parseSignerKey(keys.signerKey);
  const leaves = Array.from({ length: 13 }, (_, i) => new Uint8Array([i, i]));
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (const leaf of leaves) tree.append(leaf);
  const signed13 = file("cp13.txt", signCheckpoint({ origin, size: 13, root: tree.root() }, [signer]));
  const signed5 = file("cp5.txt", signCheckpoint({ origin, size: 5, root: tree.root(5) }, [signer]));
  const signed8 = file("cp8.txt", signCheckpoint({ origin, size: 8, root: tree.root(8) }, [signer]));
  const inclusion = inclusionProofDocument(hashLeaf(leaves[6]!), 6, 13, tree.inclusionProof(6), tree.root());
  const consistency = consistencyProofDocument(5, 13, tree.consistencyProof(5), tree.root(5), tree.root());
  // A forger's tree: leaf 6 replaced, everything recomputed; its proof verifies against its own root.
  const forged = MerkleTree.open(new MemoryNodeStore());
  leaves.forEach((leaf, i) => forged.append(i === 6 ? new Uint8Array([6, 7]) : leaf));
  const forgedInclusion = inclusionProofDocument(hashLeaf(new Uint8Array([6, 7])), 6, 13, forged.inclusionProof(6), forged.root());
  const bind = (cp: string, ...more: string[]) => ["--checkpoint", cp, "--key", keys.verifierKey, ...more];
  const signerId = keys.verifierKey.split("+").slice(0, 2).join("+");

  it("exit 0 when the proof is for the signed size and root, no warning", async () => {
    const inc = file("inc.json", JSON.stringify(inclusion));
    expect(await cli(["verify-proof", inc, ...bind(signed13, "--origin", origin)])).toEqual({
      code: 0,
      stdout: `valid: leaf 6 is included in the tree of size 13, as signed in ${origin} size 13 by ${signerId}\n`,
      stderr: "",
    });
    // A consistency proof binds at its newer tree (a new checkpoint) or its older one (the kept one).
    const con = file("con.json", JSON.stringify(consistency));
    for (const cp of [signed13, signed5]) {
      const r = await cli(["verify-proof", con, ...bind(cp)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^valid: the tree of size 13 extends the tree of size 5, as signed in /);
    }
    // Both ends bound: the older and the newer checkpoint.
    const both = await cli(["verify-proof", con, "--checkpoint", signed5, ...bind(signed13)]);
    expect(both).toEqual({
      code: 0,
      stdout: `valid: the tree of size 13 extends the tree of size 5, as signed in ${origin} size 5 by ${signerId} and ${origin} size 13 by ${signerId}\n`,
      stderr: "",
    });
    // Other keys may be given too; the checkpoint needs a signature by one of them.
    expect((await cli(["verify-proof", inc, "--checkpoint", signed13, "--key", other.verifierKey, "--key", keys.verifierKey])).code).toBe(0);
  });

  it("a forged leaf with a recomputed root passes unbound (with a warning) and fails bound", async () => {
    const path = file("forged.json", JSON.stringify(forgedInclusion));
    const unbound = await cli(["verify-proof", path]);
    expect(unbound.code).toBe(0);
    expect(unbound.stderr).toMatch(/^warning: the root is the proof file's own and is not authenticated/);
    const bound = await cli(["verify-proof", path, ...bind(signed13)]);
    expect(bound.code).toBe(1);
    expect(bound.stderr).toMatch(/^invalid: ROOT_MISMATCH: root mismatch: expected [0-9a-f]{64}, calculated [0-9a-f]{64}\n$/);
  });

  it("exit 1 for another size, a root in the file that is not the signed one, or an unverified checkpoint", async () => {
    const inc = file("inc2.json", JSON.stringify(inclusion));
    const size = await cli(["verify-proof", inc, ...bind(signed8)]);
    expect(size).toMatchObject({ code: 1, stderr: "invalid: CHECKPOINT_SIZE_MISMATCH: the proof is for tree size 13, the checkpoint signs size 8\n" });
    const wrongRoot = file("inc-root.json", JSON.stringify({ ...inclusion, root: encodeBase64(tree.root(12)) }));
    const r = await cli(["verify-proof", wrongRoot, ...bind(signed13)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^invalid: CHECKPOINT_ROOT_MISMATCH: the file's root \S+ is not the signed root \S+\n$/);
    const con = file("con2.json", JSON.stringify(consistency));
    expect((await cli(["verify-proof", con, ...bind(signed8)])).stderr).toBe(
      "invalid: CHECKPOINT_SIZE_MISMATCH: the proof is between sizes 5 and 13, the checkpoint signs size 8\n",
    );
    expect((await cli(["verify-proof", con, "--checkpoint", signed5, ...bind(signed8)])).stderr).toBe(
      "invalid: CHECKPOINT_SIZE_MISMATCH: the proof is between sizes 5 and 13, the checkpoint signs size 8\n",
    );
    const conRoot = file("con-root.json", JSON.stringify({ ...consistency, root1: encodeBase64(tree.root(4)) }));
    expect((await cli(["verify-proof", conRoot, ...bind(signed13)])).code).toBe(1); // root1 is not signed here: the proof fails
    const conRoot2 = file("con-root2.json", JSON.stringify({ ...consistency, root2: encodeBase64(tree.root(12)) }));
    expect((await cli(["verify-proof", conRoot2, ...bind(signed13)])).stderr).toMatch(/^invalid: CHECKPOINT_ROOT_MISMATCH: the file's root2 /);
    const unverified = await cli(["verify-proof", inc, "--checkpoint", signed13, "--key", other.verifierKey]);
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toMatch(/^invalid: checkpoint: NOTE_UNVERIFIED: /);
    const elsewhere = await cli(["verify-proof", inc, ...bind(signed13, "--origin", "elsewhere")]);
    expect(elsewhere.stderr).toMatch(/^invalid: checkpoint: CHECKPOINT_ORIGIN_MISMATCH: /);
    const tampered = file("cp13-bad.txt", signCheckpoint({ origin, size: 13, root: tree.root() }, [signer]).replace("\n13\n", "\n12\n"));
    expect((await cli(["verify-proof", inc, ...bind(tampered)])).stderr).toMatch(/^invalid: checkpoint: NOTE_BAD_SIGNATURE: /);
  });

  it("exit 2 for usage errors and malformed inputs", async () => {
    const inc = file("inc3.json", JSON.stringify(inclusion));
    for (const args of [
      ["verify-proof", inc, "--checkpoint", signed13],
      ["verify-proof", inc, "--checkpoint", signed5, "--checkpoint", signed8, ...bind(signed13)],
      ["verify-proof", inc, "--key", keys.verifierKey],
      ["verify-proof", inc, "--origin", origin],
      ["verify-proof", inc, ...bind(signed13), "--bogus"],
      ["verify-proof", inc, "--checkpoint", signed13, "--key", "garbage"],
      ["verify-proof", inc, ...bind(join(dir, "missing.txt"))],
      ["verify-proof", inc, ...bind(file("not-a-note.txt", "hello\n"))],
      ["verify-proof", file("bad.json", "{"), ...bind(signed13)],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });
});

describe("leaf-hash and verify-record", () => {
  const fleet = "becomingone.example/fleet/audit";
  const seed = new Uint8Array(32).fill(7);
  const publicKey = ed25519.getPublicKey(seed);
  const otherKey = ed25519.getPublicKey(new Uint8Array(32).fill(8));
  const record = sealRecord({ agentId: "agent-7", seq: 3, kind: "memory", timestamp: Date.UTC(2026, 11, 6, 7, 0, 0), payloadJson: '{"text":"hi"}' }, seed);
  const entry = encodeRecord(record);
  const rawPath = file("record.bin", entry);
  const b64Path = file("record.b64", encodeBase64(entry) + "\n");
  const agentNote = signCheckpoint(
    { origin: agentLogOrigin(fleet, "agent-7"), size: 4, root: new Uint8Array(32).fill(1) },
    [parseSignerKey(generateSignerKey(agentLogOrigin(fleet, "agent-7"), seed).signerKey)],
  );
  const checkpointEntry = encodeAgentCheckpointEntry({ agentId: "agent-7", note: agentNote });
  const keyEntry = encodeKeyEntry({ event: "approved", agentId: "agent-7", publicKey, timestamp: Date.UTC(2026, 11, 6) });

  it("leaf-hash prints SHA-256(0x00 ‖ bytes) in hex and base64 and the entry type, from a file, base64 text or stdin", async () => {
    const want = leafHashNode(entry);
    const expected = `hex     ${want.toString("hex")}\nbase64  ${want.toString("base64")}\ntype    record (0x01): agent agent-7 seq 3 kind memory at 2026-12-06T07:00:00.000Z\n`;
    expect(await cli(["leaf-hash", rawPath])).toEqual({ code: 0, stdout: expected, stderr: "" });
    expect(await cli(["leaf-hash", b64Path, "--base64"])).toEqual({ code: 0, stdout: expected, stderr: "" });
    expect(await cli(["leaf-hash", "-"], entry)).toEqual({ code: 0, stdout: expected, stderr: "" });
    expect(await cli(["leaf-hash", "-", "--base64"], encodeBase64(entry))).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  it("leaf-hash names agent-checkpoint and key entries", async () => {
    const cp = await cli(["leaf-hash", file("cp.bin", checkpointEntry)]);
    expect(cp.code).toBe(0);
    expect(cp.stdout).toContain(`hex     ${leafHashNode(checkpointEntry).toString("hex")}\n`);
    expect(cp.stdout).toContain(`type    agent-checkpoint (0x02): agent agent-7, ${agentLogOrigin(fleet, "agent-7")} size 4\n`);
    const key = await cli(["leaf-hash", file("key.bin", keyEntry)]);
    expect(key.code).toBe(0);
    expect(key.stdout).toContain(`type    key (0x03): approved agent agent-7 public key ${encodeBase64(publicKey)} at 2026-12-06T00:00:00.000Z\n`);
  });

  it("leaf-hash exits 1 for bytes that are not a log entry (hash still printed) and 2 for bad input", async () => {
    const junk = new Uint8Array([0x09, 1, 2, 3]);
    const r = await cli(["leaf-hash", file("junk.bin", junk)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`hex     ${leafHashNode(junk).toString("hex")}\nbase64  ${leafHashNode(junk).toString("base64")}\n`);
    expect(r.stderr).toMatch(/^invalid: not a log entry: ENTRY_INVALID: /);
    const truncated = await cli(["leaf-hash", file("trunc.bin", entry.subarray(0, entry.length - 1))]);
    expect(truncated.code).toBe(1);
    // Base64 text read as raw bytes is not an entry either (its first byte is a letter).
    expect((await cli(["leaf-hash", b64Path])).code).toBe(1);
    for (const args of [["leaf-hash"], ["leaf-hash", b64Path, rawPath], ["leaf-hash", rawPath, "--base64"], ["leaf-hash", join(dir, "missing.bin")], ["leaf-hash", rawPath, "--hex"]]) {
      const u = await cli(args);
      expect(u.code, args.join(" ")).toBe(2);
      expect(u.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("verify-record exits 0 for the device signature under the agent's key (base64, base64url or a vkey)", async () => {
    const line = `valid: record of agent agent-7 seq 3 kind memory at 2026-12-06T07:00:00.000Z signed by ${encodeBase64(publicKey)}; leaf hash ${leafHashNode(entry).toString("hex")}\n`;
    expect(await cli(["verify-record", rawPath, "--public-key", encodeBase64(publicKey)])).toEqual({ code: 0, stdout: line, stderr: "" });
    expect((await cli(["verify-record", b64Path, "--base64", "--public-key", bytesToBase64Url(publicKey)])).stdout).toBe(line);
    expect((await cli(["verify-record", rawPath, "--key", agentLogVerifierKey(fleet, "agent-7", publicKey)])).stdout).toBe(line);
    expect((await cli(["verify-record", rawPath, "--key", witnessVerifierKey(fleet, "agent-7", publicKey)])).stdout).toBe(line);
    expect((await cli(["verify-record", "-", "--public-key", encodeBase64(publicKey)], entry)).code).toBe(0);
  });

  it("verify-record exits 1 for another key or altered bytes", async () => {
    const other = await cli(["verify-record", rawPath, "--public-key", encodeBase64(otherKey)]);
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(`invalid: BAD_SIGNATURE: the device signature of the record of agent agent-7 seq 3 kind memory at 2026-12-06T07:00:00.000Z does not verify under ${encodeBase64(otherKey)}\n`);
    const badSig = entry.slice();
    badSig[badSig.length - 5]! ^= 1;
    expect((await cli(["verify-record", file("badsig.bin", badSig), "--public-key", encodeBase64(publicKey)])).code).toBe(1);
    // seq 3 → seq 2: still a well-formed record, no longer the one the agent signed.
    const reseq = encodeRecord({ ...record, seq: 2 });
    expect((await cli(["verify-record", file("reseq.bin", reseq), "--public-key", encodeBase64(publicKey)])).code).toBe(1);
  });

  it("verify-record exits 2 for entries that are not records and for bad arguments", async () => {
    const notRecord = await cli(["verify-record", file("key2.bin", keyEntry), "--public-key", encodeBase64(publicKey)]);
    expect(notRecord.code).toBe(2);
    expect(notRecord.stderr).toMatch(/the bytes are a key entry \(type 0x03\), not a record \(0x01\)/);
    const pk = ["--public-key", encodeBase64(publicKey)];
    for (const args of [
      ["verify-record", rawPath],
      ["verify-record", rawPath, ...pk, "--key", agentLogVerifierKey(fleet, "agent-7", publicKey)],
      ["verify-record", rawPath, "--public-key", encodeBase64(publicKey.subarray(0, 31))],
      ["verify-record", rawPath, "--public-key", "!!"],
      ["verify-record", rawPath, "--key", "garbage"],
      ["verify-record", file("junk2.bin", new Uint8Array([1, 2, 3])), ...pk],
      ["verify-record", join(dir, "missing.bin"), ...pk],
      ["verify-record", rawPath, ...pk, "--base64"],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });
});
