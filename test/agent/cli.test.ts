import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { verifyEd25519, loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { verifyLedger } from "../../agent/ledger/ledger.js";
import { recordSigningInput } from "../../shared/log/entry.js";

const MAIN = fileURLToPath(new URL("../../agent/cli/main.ts", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bo-cli-"));
  dirs.push(d);
  return d;
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
}

describe("becomingone-agent CLI", () => {
  it("--help lists every command (each is imported only when it runs); an unknown one is exit 2", () => {
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    for (const name of ["enroll", "leaf-hash", "replay", "run", "status", "verify-checkpoint", "verify-proof", "verify-record"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    }
    const unknown = cli(["verify"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "verify"');
    expect(cli(["verify-proof", "--help"]).stdout).toContain("usage: becomingone-agent verify-proof");
  });

  it("--version prints the package's version", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const r = cli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`becomingone-agent ${version}\n`);
  });

  it("run --help lists the options", () => {
    const r = cli(["run", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--tls-cert");
    expect(r.stdout).toContain("--sse-url");
  });

  it("reports bad configuration clearly with exit code 2", () => {
    const dataDir = tempDir();
    const a = cli(["run", "--data-dir", dataDir, "--hz", "fast"]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain("--hz must be a number");
    const b = cli(["run", "--data-dir", dataDir, "--hz=-3"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/hz: /);
    const file = join(dataDir, "config.json");
    writeFileSync(file, JSON.stringify({ api: { port: "eighty" }, bogus: 1 }));
    const c = cli(["run", "--config", file]);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("api.port");
    expect(c.stderr).toMatch(/bogus/);
    const d = cli(["run", "--data-dir", dataDir], { BECOMINGONE_API_PORT: "x" });
    expect(d.status).toBe(2);
    expect(d.stderr).toContain("BECOMINGONE_API_PORT");
    const e = cli(["run", "--data-dir", dataDir, "--tls-cert", "/nope.pem"]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain("tlsKey");
  });

  it("runs from stdin, answers `status`, and flushes the ledger on SIGTERM", async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "run", "--data-dir", dataDir, "--port", "0", "--stdin", "--hz", "50", "--log-level", "warn"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, BECOMINGONE_CONFIG: "" },
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const ready = await new Promise<{ api: string; agentId: string }>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line && out.includes("\n")) resolve(JSON.parse(line) as { api: string; agentId: string });
      });
      child.on("exit", () => reject(new Error(`agent exited early: ${err}`)));
    });
    child.stdin.write(Array.from({ length: 60 }, (_, i) => `word${i % 7}`).join(" ") + "\n");
    await new Promise((r) => setTimeout(r, 1800));
    const status = cli(["status", "--url", ready.api]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(ready.agentId);
    expect(status.stdout).toMatch(/clock\s+50 Hz/);
    const statusJson = cli(["status", "--url", ready.api, "--json"]);
    const parsed = JSON.parse(statusJson.stdout) as { health: { queue: { depth: number } }; coherence: unknown };
    expect(parsed.health.queue.depth).toBe(0);
    const metrics = await (await fetch(ready.api + "/metrics")).text();
    const processed = Number(/^becomingone_tokens_processed_total (\d+)$/m.exec(metrics)![1]);
    expect(processed).toBe(60);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(err).toBe("");
    expect(code).toBe(0);
    // Everything sealed before SIGTERM is durable and verifies.
    const key = loadOrCreateDeviceKey(dataDir);
    const check = verifyLedger(join(dataDir, "ledger"), (r) => verifyEd25519(key.publicKey, recordSigningInput(r), r.signature));
    expect(check.problems).toEqual([]);
    expect(check.tornBytes).toBe(0);
    expect(check.size).toBeGreaterThan(0);
    // status against a stopped agent fails cleanly.
    const down = cli(["status", "--url", ready.api]);
    expect(down.status).toBe(1);
    expect(down.stderr).toContain("cannot reach the agent");
  }, 40_000);
});
