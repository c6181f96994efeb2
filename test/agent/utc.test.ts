import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { verifyEd25519, loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { verifyLedger } from "../../agent/ledger/ledger.js";
import { recordSigningInput } from "../../shared/log/entry.js";
import { agentReadyLine } from "../support/agentReadyLine.js";

// The reference stamped events with local time, which breaks a mesh spread over time zones. Every
// timestamp here is UTC: epoch ms, or ISO 8601 with Z. Two checks: no local-time API in the source,
// and a real agent run in a +13:45 zone says nothing but UTC.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(ROOT, "agent/cli/main.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Date methods and constructors that read or build local time. */
const LOCAL_TIME = /\.(getHours|getMinutes|getSeconds|getDate|getDay|getMonth|getFullYear|getYear|getTimezoneOffset|toLocale\w*String|toDateString|toTimeString)\(|new Date\(\s*\d+\s*,|(?<!new )\bDate\(\)/;

/** Every string in a JSON value that reads as a calendar time. */
function calendarStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) calendarStrings(v, out);
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) calendarStrings(v, out);
  return out;
}

describe("UTC everywhere", () => {
  it("no source file in agent/, edge/, shared/ or scripts/ uses a local-time Date API", () => {
    const offenders = ["agent", "edge", "shared", "scripts"]
      .flatMap((d) => sourceFiles(join(ROOT, d)))
      .flatMap((file) =>
        readFileSync(file, "utf8")
          .split("\n")
          .map((line, i) => ({ line, at: `${file.slice(ROOT.length)}:${i + 1}` }))
          .filter(({ line }) => LOCAL_TIME.test(line) && !/^\s*(\/\/|\*)/.test(line))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it("an agent running in a +13:45 time zone logs, answers and seals only UTC times", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "bo-utc-"));
    dirs.push(dataDir);
    const startedAt = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "run", "--data-dir", dataDir, "--port", "0", "--stdin", "--hz", "50", "--log-level", "debug"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, BECOMINGONE_CONFIG: "", TZ: "Pacific/Chatham" },
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const ready = await agentReadyLine(child, () => err);
    // A repeated motif so the engine has something to seal.
    child.stdin.write(Array.from({ length: 200 }, (_, i) => `tide${i % 3}`).join(" ") + "\n");
    await new Promise((r) => setTimeout(r, 2500));
    const answers = await Promise.all(["/", "/health", "/coherence"].map(async (p) => (await fetch(ready.api + p)).json() as Promise<unknown>));
    child.kill("SIGTERM");
    await new Promise((resolve) => child.on("exit", resolve));
    const endedAt = Date.now();

    // The zone exists in this Node's ICU: otherwise TZ would fall back to UTC and prove nothing.
    expect(new Date(Date.UTC(2026, 0, 1)).toLocaleString("en-NZ", { timeZone: "Pacific/Chatham" })).toContain("1:45");
    const logLines = err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as unknown);
    expect(logLines.length).toBeGreaterThan(0);
    const times = calendarStrings([...answers, ...logLines]);
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) {
      expect(t, t).toMatch(/Z$/);
      const ms = Date.parse(t);
      expect(ms, t).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(ms, t).toBeLessThanOrEqual(endedAt + 1000);
    }
    // Sealed records carry epoch ms of the same clock.
    const key = loadOrCreateDeviceKey(dataDir);
    const stamps: number[] = [];
    const check = verifyLedger(join(dataDir, "ledger"), (r) => {
      stamps.push(r.timestamp);
      return verifyEd25519(key.publicKey, recordSigningInput(r), r.signature);
    });
    expect(check.problems).toEqual([]);
    expect(stamps.length).toBeGreaterThan(0);
    for (const ms of stamps) {
      expect(ms).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(ms).toBeLessThanOrEqual(endedAt + 1000);
    }
  }, 40_000);
});
