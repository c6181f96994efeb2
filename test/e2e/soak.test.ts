/**
 * `npm run soak -- --quick` end to end, so the soak cannot rot: the real CLI with a real edge, a real
 * link proxy and real agents from dist/ (`npm run build` first) goes through every phase — kill -9
 * trials while connected and during the cut, an edge restart, a silent link cut, drain, audit — and
 * must exit 0 with a table whose every check is 0. The verdicts themselves are tested against
 * damaged logs in test/soak/logAudit.test.ts.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function runSoak(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "soak", "main.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => done({ code, stdout, stderr }));
  });
}

/** The value column of a row of the soak's table. */
function row(table: string, label: string): string {
  const line = table.split("\n").find((l) => l.trimStart().startsWith(label + "  "));
  if (line === undefined) throw new Error(`no row "${label}" in:\n${table}`);
  return line.trimStart().slice(label.length).trim();
}
const leadingNumber = (text: string) => Number(/^\d+/.exec(text)?.[0] ?? NaN);

describe("npm run soak", () => {
  it("--quick passes every phase and every check, and says so in its table", async () => {
    const { code, stdout, stderr } = await runSoak(["--quick"]);
    expect(code, `${stdout}\n${stderr.slice(-4000)}`).toBe(0);
    expect(stdout).toMatch(/^PASS: soak of /m);
    expect(leadingNumber(row(stdout, "kill -9 while connected"))).toBeGreaterThanOrEqual(3);
    expect(leadingNumber(row(stdout, "kill -9 during the cut"))).toBeGreaterThanOrEqual(3);
    expect(leadingNumber(row(stdout, "edge restarts under load"))).toBe(1);
    expect(row(stdout, "link cuts")).toMatch(/^1 of /);
    const records = leadingNumber(row(stdout, "records sealed"));
    expect(records).toBeGreaterThan(100);
    expect(leadingNumber(row(stdout, "global log entries"))).toBe(records);
    for (const label of ["ledger problems (verifyLedger)", "lost", "undelivered (after the last logged)", "duplicated", "reordered", "bytes differ", "in the log, not in the ledger", "inconsistent or forked", "bad signature or origin", "problems"]) {
      expect(row(stdout, label), label).toBe("0");
    }
    const distinct = leadingNumber(row(stdout, "checkpoints distinct, verified"));
    expect(distinct).toBeGreaterThan(2);
    expect(leadingNumber(row(stdout, "consecutive pairs consistent"))).toBe(distinct - 1);
    // The final checkpoint covers every entry: the records, and the agents' key and agent-checkpoint entries.
    const others = leadingNumber(row(stdout, "key and agent-checkpoint entries"));
    expect(others).toBeGreaterThanOrEqual(2 * 2);
    expect(row(stdout, "final checkpoint")).toMatch(new RegExp(`^size ${records + others}, root = root of the served entries$`));
  }, 180_000);

  it("refuses a bad flag with exit 2 and the usage", async () => {
    const { code, stderr } = await runSoak(["--agents", "0"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--agents must be an integer in 1–16/);
    expect(stderr).toMatch(/--cut-minutes/);
  });
});
