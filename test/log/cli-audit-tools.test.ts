/**
 * The auditor's offline subcommands as processes: verify-proof bound to a signed checkpoint (a
 * forged leaf with a recomputed root fails), leaf-hash, verify-record; and the audit command's
 * usage errors (exit 2, one line).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, describe, expect, it } from "vitest";
import { agentLogVerifierKey, signCheckpoint, witnessVerifierKey } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { MemoryNodeStore, MerkleTree, encodeKeyEntry, encodeRecord, hashLeaf, inclusionProofDocument, consistencyProofDocument, sealRecord } from "../../shared/log/index.js";
import { generateSignerKey, parseSignerKey } from "../../shared/note/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const main = join(root, "agent/cli/main.ts");
const dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", main, ...args], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const secret = new Uint8Array(32).fill(3);
const publicKey = ed25519.getPublicKey(secret);
const record = sealRecord({ agentId: "ag_audit", seq: 6, kind: "memory", timestamp: 1_700_000_000_006, payloadJson: '{"n":6}' }, secret);
const entry = encodeRecord(record);

describe("verify-proof --checkpoint", () => {
  const origin = "audit.test/fleet/cli";
  const keys = generateSignerKey("audit.test/log", new Uint8Array(32).fill(1));
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (let i = 0; i < 13; i++) tree.append(i === 6 ? entry : new Uint8Array([i]));
  const signer = parseSignerKey(keys.signerKey);
  const cp13 = file("cp13.txt", signCheckpoint({ origin, size: 13, root: tree.root() }, [signer]));
  const cp5 = file("cp5.txt", signCheckpoint({ origin, size: 5, root: tree.root(5) }, [signer]));
  const inclusion = inclusionProofDocument(hashLeaf(entry), 6, 13, tree.inclusionProof(6), tree.root());

  it("accepts a proof that matches the signed size and root", async () => {
    const r = await cli("verify-proof", file("inc.json", JSON.stringify(inclusion)), "--checkpoint", cp13, "--key", keys.verifierKey);
    expect(r).toMatchObject({ code: 0, stdout: `valid: leaf 6 is included in the signed tree of size 13 (${origin})\n` });
    const consistency = consistencyProofDocument(5, 13, tree.consistencyProof(5), tree.root(5), tree.root());
    const c = await cli("verify-proof", file("con.json", JSON.stringify(consistency)), "--checkpoint", cp13, "--checkpoint", cp5, "--key", keys.verifierKey);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe("valid: the signed tree of size 13 extends the signed tree of size 5\n");
  });

  it("refuses a forged leaf with a recomputed root, and a size no given checkpoint signed", async () => {
    // Another leaf at index 6, with the root its proof leads to: valid on its own, not against the checkpoint.
    const forgedLeaf = hashLeaf(new Uint8Array([0xee]));
    const forgedTree = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 13; i++) forgedTree.append(i === 6 ? new Uint8Array([0xee]) : new Uint8Array([i]));
    const forged = inclusionProofDocument(forgedLeaf, 6, 13, forgedTree.inclusionProof(6), forgedTree.root());
    const path = file("forged.json", JSON.stringify(forged));
    expect((await cli("verify-proof", path)).code).toBe(0);
    const bound = await cli("verify-proof", path, "--checkpoint", cp13, "--key", keys.verifierKey);
    expect(bound.code).toBe(1);
    expect(bound.stderr).toMatch(/^invalid: ROOT_MISMATCH/);
    const other = await cli("verify-proof", file("inc5.json", JSON.stringify(inclusionProofDocument(hashLeaf(new Uint8Array([1])), 1, 5, tree.inclusionProof(1, 5), tree.root(5)))), "--checkpoint", cp13, "--key", keys.verifierKey);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("UNSIGNED_SIZE: no given signed checkpoint has size 5");
    const wrongKey = await cli("verify-proof", file("inc2.json", JSON.stringify(inclusion)), "--checkpoint", cp13, "--key", generateSignerKey("audit.test/log").verifierKey);
    expect(wrongKey.code).toBe(1);
    expect((await cli("verify-proof", file("inc3.json", JSON.stringify(inclusion)), "--checkpoint", cp13)).code).toBe(2);
  });
});

describe("leaf-hash and verify-record", () => {
  const raw = file("entry.bin", entry);
  const b64 = file("entry.b64", `${encodeBase64(entry)}\n`);

  it("leaf-hash prints the RFC 6962 leaf hash of raw or base64 entry bytes", async () => {
    const want = `${encodeBase64(hashLeaf(entry))}  record ag_audit seq 6 memory\n`;
    expect(await cli("leaf-hash", raw)).toEqual({ code: 0, stdout: want, stderr: "" });
    expect((await cli("leaf-hash", b64, "--base64")).stdout).toBe(want);
    const keyEntry = encodeKeyEntry({ event: "enrolled", agentId: "ag_audit", publicKey, timestamp: 5 });
    expect((await cli("leaf-hash", file("key.bin", keyEntry))).stdout).toBe(`${encodeBase64(hashLeaf(keyEntry))}  key enrolled ag_audit ${encodeBase64(publicKey)}\n`);
    const junk = await cli("leaf-hash", file("junk.bin", new Uint8Array([9, 9])));
    expect(junk.code).toBe(1);
    expect(junk.stdout).toContain(encodeBase64(hashLeaf(new Uint8Array([9, 9]))));
    expect((await cli("leaf-hash", b64)).code).toBe(1);
    expect((await cli("leaf-hash", raw, "--base64")).code).toBe(2);
  });

  it("verify-record checks the device signature under a public key or the agent's verifier key", async () => {
    expect(await cli("verify-record", raw, "--public-key", encodeBase64(publicKey))).toMatchObject({ code: 0, stdout: `valid: ag_audit seq 6 (memory) signed by ${encodeBase64(publicKey)}\n` });
    const base64url = encodeBase64(publicKey).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    expect((await cli("verify-record", b64, "--base64", "--public-key", base64url)).code).toBe(0);
    expect((await cli("verify-record", raw, "--key", agentLogVerifierKey("audit.test/fleet/cli", "ag_audit", publicKey))).code).toBe(0);
    expect((await cli("verify-record", raw, "--key", witnessVerifierKey("audit.test/fleet/cli", "ag_audit", publicKey))).code).toBe(0);
    const broken = entry.slice();
    broken[broken.length - 1]! ^= 1;
    const bad = await cli("verify-record", file("broken.bin", broken), "--public-key", encodeBase64(publicKey));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^invalid: the signature of ag_audit seq 6 does not verify/);
    expect((await cli("verify-record", raw, "--public-key", encodeBase64(ed25519.getPublicKey(new Uint8Array(32).fill(4))))).code).toBe(1);
    expect((await cli("verify-record", raw)).code).toBe(2);
    expect((await cli("verify-record", raw, "--public-key", "AAAA")).code).toBe(2);
  });
});

describe("audit usage", () => {
  const logKey = generateSignerKey("audit.test/log", new Uint8Array(32).fill(1)).verifierKey;
  const witness = witnessVerifierKey("audit.test/fleet/cli", "ag_w", publicKey);
  it("exit 2 with one line for every usage error", async () => {
    for (const args of [
      [],
      ["--edge", "http://127.0.0.1:1", "--agent", "ag_x", "--seq", "1"],
      ["--edge", "ftp://x", "--log-key", logKey, "--index", "1"],
      ["--edge", "http://127.0.0.1:1", "--log-key", "junk", "--index", "1"],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--agent", "ag_x", "--seq", "1"],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "-1"],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--witness", logKey],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--witness", witness, "--quorum", "2"],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--quorum", "1"],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--state", file("bad-state.json", "{")],
      ["--edge", "http://127.0.0.1:1", "--log-key", logKey, "--index", "1", "--bogus"],
    ]) {
      const r = await cli("audit", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
    }
  });

  it("an unreachable edge is a failed global-checkpoint (exit 1), every later step skipped", async () => {
    const r = await cli("audit", "--edge", "http://127.0.0.1:9", "--log-key", logKey, "--index", "0", "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^audit: global-checkpoint: GET \/v1\/log\/checkpoint failed/);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: { step: string; status: string }[] };
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.status)).toEqual(["failed", ...Array(9).fill("skipped")]);
  });
});
