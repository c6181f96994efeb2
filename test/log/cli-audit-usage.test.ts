/**
 * The audit command as a process: usage errors (exit 2, one line) and an unreachable edge. The
 * offline subcommands (verify-proof --checkpoint, leaf-hash, verify-record) are in cli-audit.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, describe, expect, it } from "vitest";
import { witnessVerifierKey } from "../../shared/checkpoint/index.js";
import { generateSignerKey } from "../../shared/note/index.js";
import { runCli } from "../support/cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const secret = new Uint8Array(32).fill(3);
const publicKey = ed25519.getPublicKey(secret);

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
