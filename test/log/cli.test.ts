/**
 * The auditor CLI: every vector through the command's checking function, then the real process
 * (`node --import tsx agent/cli/main.ts …`) for each exit code of both commands.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../agent/cli/command.js";
import { checkProofDocument } from "../../agent/cli/commands/verify-proof.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { MemoryNodeStore, MerkleTree, consistencyProofDocument, hashLeaf, inclusionProofDocument } from "../../shared/log/index.js";
import { generateSignerKey, parseSignerKey } from "../../shared/note/index.js";
import { readJson, vectorFiles } from "./fixtures.js";
import { runCli } from "../support/cli-process.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "verify-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("verify-proof on every vector (in process)", () => {
  for (const kind of ["inclusion", "consistency"] as const) {
    for (const { name, path } of vectorFiles(kind)) {
      it(name, () => {
        const v = readJson<{ wantErr: boolean }>(path);
        const result = checkProofDocument(v);
        expect(result.valid).toBe(!v.wantErr);
      });
    }
  }
  it("malformed documents are usage errors", () => {
    expect(() => checkProofDocument([])).toThrow(UsageError);
    expect(() => checkProofDocument({ foo: 1 })).toThrow(UsageError);
    expect(() => checkProofDocument({ leafIdx: -1, treeSize: 1, root: "", leafHash: "", proof: [] })).toThrow(UsageError);
    expect(() => checkProofDocument({ leafIdx: 0, treeSize: 1, root: "%%%", leafHash: "", proof: [] })).toThrow(UsageError);
    expect(() => checkProofDocument({ size1: 1, size2: 2 ** 65, root1: "", root2: "", proof: [] })).toThrow(UsageError);
    expect(() => checkProofDocument({ size1: 1.5, size2: 2, root1: "", root2: "", proof: [] })).toThrow(UsageError);
  });
  it("uint64 values beyond 2^53 − 1 are invalid, not malformed", () => {
    const r = checkProofDocument({ size1: 1, size2: 2 ** 60, root1: "", root2: "", proof: [] });
    expect(r).toEqual({ valid: false, reason: "INVALID_NUMBER: size2 must be a non-negative safe integer, got 1152921504606847000" });
  });
});

const UNAUTHENTICATED = "warning: the root is the proof file's own and is not authenticated; bind it with --checkpoint NOTE_FILE --key VKEY\n";

describe("verify-proof process", () => {
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (let i = 0; i < 13; i++) tree.append(new Uint8Array([i, i]));
  // The documents the edge and agent serve (shared/log/proof-document.ts) are what the CLI reads.
  const inclusion = inclusionProofDocument(hashLeaf(new Uint8Array([6, 6])), 6, 13, tree.inclusionProof(6), tree.root());
  const consistency = consistencyProofDocument(5, 13, tree.consistencyProof(5), tree.root(5), tree.root());
  it("documents have the vectors' shape", () => {
    expect(Object.keys(inclusion).sort()).toEqual(["leafHash", "leafIdx", "proof", "root", "treeSize"]);
    expect(inclusion.root).toBe(encodeBase64(tree.root()));
    expect(Object.keys(consistency).sort()).toEqual(["proof", "root1", "root2", "size1", "size2"]);
  });

  it("exit 0 for valid proofs, one line on stdout", async () => {
    const a = await cli("verify-proof", file("inc.json", JSON.stringify(inclusion)));
    expect(a).toEqual({ code: 0, stdout: "valid: leaf 6 is included in the tree of size 13\n", stderr: UNAUTHENTICATED });
    const b = await cli("verify-proof", file("con.json", JSON.stringify(consistency)));
    expect(b.code).toBe(0);
    expect(b.stdout).toBe("valid: the tree of size 13 extends the tree of size 5\n");
  });

  it("exit 1 for invalid proofs, one line saying why", async () => {
    const a = await cli("verify-proof", file("inc-bad.json", JSON.stringify({ ...inclusion, leafIdx: 7 })));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^warning: .*\ninvalid: ROOT_MISMATCH: root mismatch: expected [0-9a-f]{64}, calculated [0-9a-f]{64}\n$/);
    const b = await cli("verify-proof", file("con-bad.json", JSON.stringify({ ...consistency, proof: consistency.proof.slice(1) })));
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(`${UNAUTHENTICATED}invalid: PROOF_LENGTH: proof has ${consistency.proof.length - 1} hashes, want ${consistency.proof.length}\n`);
    // A checked-in vector, straight from the fixtures.
    const c = await cli("verify-proof", join(root, "test/fixtures/merkle/inclusion/1/modified-proof[1]-bit-@3.json"));
    expect(c.code).toBe(1);
  });

  it("exit 2 for malformed files", async () => {
    for (const [name, content] of [
      ["notjson.json", "{"],
      ["shape.json", JSON.stringify({ hello: 1 })],
      ["b64.json", JSON.stringify({ ...inclusion, root: "not base64!" })],
      ["neg.json", JSON.stringify({ ...inclusion, treeSize: -3 })],
    ] as const) {
      const r = await cli("verify-proof", file(name, content));
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect((await cli("verify-proof", join(dir, "missing.json"))).code).toBe(2);
    expect((await cli("verify-proof")).code).toBe(2);
  });
});

describe("verify-checkpoint process", () => {
  const keys = generateSignerKey("becomingone.example/fleet/test");
  const other = generateSignerKey("becomingone.example/other");
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (let i = 0; i < 21; i++) tree.append(new Uint8Array([i]));
  const note = signCheckpoint({ origin: "becomingone.example/fleet/test", size: 21, root: tree.root() }, [parseSignerKey(keys.signerKey)]);
  const good = file("cp.txt", note);

  it("exit 0 when signed by the given key", async () => {
    const r = await cli("verify-checkpoint", good, "--key", keys.verifierKey);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `valid: becomingone.example/fleet/test size 21 root ${encodeBase64(tree.root())} signed by ${keys.verifierKey.split("+").slice(0, 2).join("+")}\n`,
    );
    const both = await cli("verify-checkpoint", good, "--key", other.verifierKey, "--key", keys.verifierKey, "--origin", "becomingone.example/fleet/test");
    expect(both.code).toBe(0);
  });

  it("exit 1 for another signer, a tampered checkpoint or another origin", async () => {
    const r1 = await cli("verify-checkpoint", good, "--key", other.verifierKey);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/^invalid: NOTE_UNVERIFIED: /);
    const r2 = await cli("verify-checkpoint", file("cp-bad.txt", note.replace("\n21\n", "\n20\n")), "--key", keys.verifierKey);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^invalid: NOTE_BAD_SIGNATURE: signature by becomingone\.example\/fleet\/test\+[0-9a-f]{8} does not verify\n$/);
    const r3 = await cli("verify-checkpoint", good, "--key", keys.verifierKey, "--origin", "elsewhere");
    expect(r3.code).toBe(1);
  });

  it("exit 2 for a malformed note, checkpoint, key or arguments", async () => {
    expect((await cli("verify-checkpoint", file("cp-nosig.txt", note.split("\n\n")[0]! + "\n"), "--key", keys.verifierKey)).code).toBe(2);
    const notCheckpoint = signCheckpoint({ origin: "o", size: 1, root: tree.root() }, [parseSignerKey(keys.signerKey)]).replace(/^o\n1\n/, "o\n01\n");
    expect((await cli("verify-checkpoint", file("cp-body.txt", notCheckpoint), "--key", keys.verifierKey)).code).toBe(1); // signature fails first
    expect((await cli("verify-checkpoint", good, "--key", "garbage")).code).toBe(2);
    expect((await cli("verify-checkpoint", good)).code).toBe(2);
    expect((await cli("verify-checkpoint", join(dir, "missing.txt"), "--key", keys.verifierKey)).code).toBe(2);
    expect(readFileSync(good, "utf8")).toBe(note);
  });
});
