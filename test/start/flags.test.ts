/**
 * `npm start` refusals that come before anything runs: real `node scripts/start-check.mjs`
 * processes, plus the pure flag parser and backoff.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Backoff } from "../../scripts/start/backoff.js";
import { parseStartFlags, UsageError } from "../../scripts/start/flags.js";

const ENTRY = fileURLToPath(new URL("../../scripts/start-check.mjs", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bo-start-"));
  dirs.push(d);
  return d;
}

function start(args: string[], env: Record<string, string> = {}, entry = ENTRY) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_config_") && k !== "BECOMINGONE_DATA"));
  return spawnSync(process.execPath, [entry, ...args], { encoding: "utf8", env: { ...clean, ...env }, timeout: 30_000 });
}

describe("npm start: flags", () => {
  it("--help prints the usage, --version the version; both exit 0 and start nothing", () => {
    const help = start(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("usage: npm start [-- options]");
    for (const flag of ["--port", "--agents", "--fresh", "--data", "--verbose", "--version"]) expect(help.stdout).toContain(flag);
    const version = start(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^becomingone-fleet \d+\.\d+\.\d+\n$/);
  });

  it("an unknown flag, a bad value or a stray argument: one line on stderr, exit 2", () => {
    for (const args of [["--bogus"], ["--agents", "0"], ["--agents", "x"], ["--port", "70000"], ["9123"], ["--data", ""]]) {
      const r = start(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^npm start: /);
    }
  });

  it("`npm start --port 9123` (no --): npm keeps --port and passes 9123 on; the pair is put back together", () => {
    expect(parseStartFlags(["9123"], { npm_config_port: "true" })).toMatchObject({ port: 9123, portExplicit: true });
    expect(parseStartFlags([], { npm_config_agents: "3", npm_config_fresh: "true" })).toMatchObject({ agents: 3, fresh: true });
    expect(() => parseStartFlags(["9123", "3"], { npm_config_port: "true", npm_config_agents: "true" })).toThrow(UsageError);
    // through a real process too: the refusal is one line naming the right command
    const r = start(["9123", "3"], { npm_config_port: "true", npm_config_agents: "true" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("npm start -- --port");
    expect(parseStartFlags([], {})).toMatchObject({ port: 8787, portExplicit: false, agents: 8, fresh: false, data: undefined });
    expect(parseStartFlags([], { BECOMINGONE_DATA: "/tmp/x" }).data).toBe("/tmp/x");
  });

  it("restart delays: 1 s doubling to 30 s, back to 1 s after 60 s up", () => {
    const b = new Backoff();
    expect([0, 0, 0, 0, 0, 0, 0].map(() => b.next(500))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(b.next(60_000)).toBe(1000);
    expect(b.next(10)).toBe(2000);
  });
});

describe("npm start: refusals before anything runs", () => {
  it("a taken --port: exit 1 naming the port and the process that holds it; nothing left running", async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const data = tempDir();
      const r = start(["--port", String(port), "--agents", "1", "--data", data]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`port ${port} is in use by pid ${process.pid}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      // the lock was released: the folder is free again
      expect(start(["--port", String(port), "--data", data]).stderr).not.toContain("another npm start");
    } finally {
      server.close();
    }
  });

  it("without npm install: says so, exit 1 (no tsx needed to say it)", () => {
    const fakeRoot = tempDir();
    mkdirSync(join(fakeRoot, "scripts"));
    copyFileSync(ENTRY, join(fakeRoot, "scripts", "start-check.mjs"));
    const r = start([], {}, join(fakeRoot, "scripts", "start-check.mjs"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/run `npm install` first/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
