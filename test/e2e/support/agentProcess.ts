/** A real `becomingone-agent run` process for end-to-end tests (TypeScript sources via tsx, or the build in dist/). */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = join(ROOT, "agent", "cli", "main.ts");
const BUILT_MAIN = join(ROOT, "dist", "agent", "cli", "main.js");

/** Fast sealing so a second of streaming gives dozens of records: witness 10/s, digest 1/s, fsync every 50 ms or 8 records. */
export const FAST_SEALING = {
  hz: 50,
  seal: { witnessEverySeconds: 0.1, digestEverySeconds: 1 },
  ledger: { fsyncIntervalMs: 50, fsyncEveryRecords: 8 },
};

export interface AgentProcessOptions {
  readonly dataDir: string;
  readonly edgeUrl: string;
  readonly token?: string;
  /** Written to <dataDir>/../<name>.config.json and passed with --config. */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  /** Feed an endless demo text on stdin (default true). */
  readonly stream?: boolean;
  /** Run the build (dist/, `npm run build` first) instead of the sources: what a Pi runs, and no tsx start-up per process (the soak starts hundreds). */
  readonly built?: boolean;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  /** Resolves with the API URL and agent id once the agent printed its ready line. */
  readonly ready: Promise<{ api: string; agentId: string }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stderr so far (JSON log lines). */
  logs(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (kill -9) and wait. */
  kill9(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const WORDS = "the engine listens to a stream of tokens and keeps two clocks when they agree the field collapses into a memory".split(" ");

export function startAgentProcess(options: AgentProcessOptions): AgentProcess {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const entry = options.built === true ? [BUILT_MAIN] : ["--import", "tsx", MAIN];
  const args = [...entry, "run", "--data-dir", options.dataDir, "--port", "0", "--edge", options.edgeUrl, "--log-level", "info"];
  if (options.stream !== false) args.push("--stdin");
  if (options.token) args.push("--token", options.token);
  if (options.config) {
    const file = `${options.dataDir}.config.json`;
    writeFileSync(file, JSON.stringify(options.config));
    args.push("--config", file);
  }
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...options.env } });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const ready = new Promise<{ api: string; agentId: string }>((resolveReady, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.includes('"event":"ready"'));
      if (line) {
        const ev = JSON.parse(line) as { api: string; agentId: string };
        resolveReady({ api: ev.api, agentId: ev.agentId });
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`agent exited (${code ?? signal}) before it was ready:\n${stderr.slice(-3000)}`)));
  });
  ready.catch(() => {});
  // An endless word stream; the pipe's backpressure paces it to the agent's clock.
  let i = 0;
  let feeding = options.stream !== false;
  child.stdin!.on("error", () => (feeding = false));
  const pump = (): void => {
    while (feeding) {
      let chunk = "";
      for (let k = 0; k < 64; k++) chunk += WORDS[i++ % WORDS.length] + " ";
      if (!child.stdin!.write(chunk + "\n")) {
        child.stdin!.once("drain", pump);
        return;
      }
    }
  };
  if (feeding) pump();
  void exited.then(() => (feeding = false));
  const signal = async (sig: NodeJS.Signals) => {
    feeding = false;
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    return exited;
  };
  return { child, ready, exited, logs: () => stderr, stop: () => signal("SIGTERM"), kill9: () => signal("SIGKILL") };
}

/** GET JSON from the agent's local API. */
export async function agentHealth(api: string): Promise<{ link: string; ledger: { size: number; durable: number; acked: number } }> {
  const res = await fetch(`${api}/health`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as { link: string; ledger: { size: number; durable: number; acked: number } };
}

export async function agentMetrics(api: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^becomingone_link_([a-z_]+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const madeDirs: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs()` (call it in afterAll). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
