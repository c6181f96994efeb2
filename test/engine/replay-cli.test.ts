import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real CLI (TypeScript sources through tsx) in a child process. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "agent/cli/main.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function close(a: number, b: number): boolean {
  const err = Math.abs(a - b);
  return err <= 1e-12 || err <= 1e-9 * Math.abs(b);
}

interface Expect {
  coherence: number;
  tTau: [number, number];
  collapsed: boolean;
  lamport: number;
  eigenPhase: number;
  timestamp: string;
}

describe("becomingone-agent replay", () => {
  it.each(["engine-scenario-wall.json", "engine-scenario-token.json"])("replays %s: one JSON line per step matching the golden expectations", (file) => {
    const path = join(root, "test/fixtures", file);
    const scenario = JSON.parse(readFileSync(path, "utf8")) as { steps: unknown[]; expect: Expect[] };
    const r = cli("replay", path);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(scenario.steps.length);
    lines.forEach((line, i) => {
      const got = JSON.parse(line) as Expect;
      const ex = scenario.expect[i]!;
      expect(Object.keys(got).sort()).toEqual(["coherence", "collapsed", "eigenPhase", "lamport", "tTau", "timestamp"]);
      expect(close(got.coherence, ex.coherence) && close(got.tTau[0], ex.tTau[0]) && close(got.tTau[1], ex.tTau[1]) && close(got.eigenPhase, ex.eigenPhase), `step ${i}`).toBe(true);
      expect(got.collapsed).toBe(ex.collapsed);
      expect(got.lamport).toBe(ex.lamport);
      expect(got.timestamp).toBe(ex.timestamp);
    });
  });

  const bad: [string, string, RegExp][] = [
    ["missing steps", JSON.stringify({ config: {}, start: "2026-05-25T12:00:00Z" }), /steps/],
    ["bad step timestamp", JSON.stringify({ config: {}, start: "2026-05-25T12:00:00Z", steps: [{ input: "a" }, { input: "b", timestamp: "noon" }] }), /steps\[1\]\.timestamp/],
    ["bad config value", JSON.stringify({ config: { historySize: 0 }, start: "2026-05-25T12:00:00Z", steps: [] }), /config\.historySize/],
    ["unknown config key", JSON.stringify({ config: { tau: 1 }, start: "2026-05-25T12:00:00Z", steps: [] }), /config/],
    ["non-string input", JSON.stringify({ config: {}, start: "2026-05-25T12:00:00Z", steps: [{ input: 5 }] }), /steps\[0\]\.input/],
    ["bad start", JSON.stringify({ config: {}, start: "2026-13-01T00:00:00Z", steps: [] }), /start/],
    ["not JSON", "{ nope", /not JSON/],
  ];
  it.each(bad)("malformed scenario (%s): one line naming the field, exit 2, no stack trace", (name, content, field) => {
    const path = join(dir, `${name.replace(/\W/g, "-")}.json`);
    writeFileSync(path, content);
    const r = cli("replay", path);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(field);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a missing file or missing argument is a one-line usage error", () => {
    const missing = cli("replay", join(dir, "nope.json"));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/ENOENT/);
    const none = cli("replay");
    expect(none.code).toBe(2);
  });
});
