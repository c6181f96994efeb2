/**
 * Starts the REAL edge Worker locally (workerd via `wrangler dev`) for Node tests: a free loopback
 * port, a persist directory for its SQLite state, ADMIN_TOKEN and LOG_SIGNING_KEY as `--var`s.
 * `stop()` ends it (SIGTERM, then wait for exit); `restart()` starts it again on the same port with
 * the same persisted state, so a test can cut the edge away and bring it back.
 *
 * @example
 * ```ts
 * const edge = await startEdge();
 * const res = await fetch(`${edge.url}/v1/fleet`, { headers: { Authorization: `Bearer ${edge.adminToken}` } });
 * await edge.stop();
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSignerKey, parseSignerKey } from "../../shared/note/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export interface EdgeOptions {
  /** Directory for the Worker's persisted state (default: a new temporary directory). */
  readonly persistDir?: string;
  /** Admin bearer token (default: random). */
  readonly adminToken?: string;
  /** Note signer key PRIVATE+KEY+name+hash+base64 (default: a fresh key named "becomingone-edge"). */
  readonly signingKey?: string;
  /** Extra `--var`s, e.g. { ENROLL_RATE_PER_MINUTE: "5" }. */
  readonly vars?: Readonly<Record<string, string>>;
  /** How long to wait for /health, ms (default 90 s: two shared cores can be slow). */
  readonly startTimeoutMs?: number;
  /**
   * Wait for any HTTP answer on /health rather than a healthy one: for an edge deliberately started
   * misconfigured (e.g. `vars: { ADMIN_TOKEN: "" }` answers every route with 503 secrets_missing).
   */
  readonly misconfigured?: boolean;
}

export interface RunningEdge {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port> */
  readonly wsUrl: string;
  readonly port: number;
  readonly persistDir: string;
  readonly adminToken: string;
  readonly signingKey: string;
  /** The verifier key text matching signingKey (what /v1/log/key serves). */
  readonly verifierKey: string;
  /** True while the Worker process runs. */
  readonly running: boolean;
  /** Everything wrangler printed so far (for failure messages). */
  output(): string;
  /** Ends the Worker: SIGTERM, wait for exit (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and persist dir (stops it first if running). */
  restart(): Promise<void>;
  /** stop(), then delete the temporary directories this harness created (not a given persistDir). */
  dispose(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** /health answers 200 and the log key is ours: not some other Worker that got the port first. */
async function healthy(url: string, verifierKey: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    if (res.status !== 200) return false;
    const key = await fetch(`${url}/v1/log/key`, { signal: AbortSignal.timeout(2000) });
    return key.status === 200 && (await key.text()).trim() === verifierKey;
  } catch {
    return false;
  }
}

/** /health answers at all (any status). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function startEdge(options: EdgeOptions = {}): Promise<RunningEdge> {
  const ownPersistDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? (await mkdtemp(join(tmpdir(), "becomingone-edge-")));
  const adminToken = options.adminToken ?? `adm_${randomBytes(24).toString("base64url")}`;
  const keys = options.signingKey === undefined ? generateSignerKey("becomingone-edge") : undefined;
  const signingKey = options.signingKey ?? keys!.signerKey;
  const verifierKey = keys?.verifierKey ?? parseSignerKey(signingKey).verifierKey;
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  // A private copy of wrangler.toml with an absolute `main`, in its own directory: wrangler reads
  // .dev.vars next to the config, so the checkout's .dev.vars (npm start writes one) cannot leak in.
  const configDir = await mkdtemp(join(tmpdir(), "becomingone-edge-config-"));
  const configPath = join(configDir, "wrangler.toml");
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  // [assets] directory is relative to the config too: the dashboard build in the checkout's dist/.
  const absolute = toml
    .replace(/^main\s*=\s*"([^"]+)"/m, (_line, main: string) => `main = ${JSON.stringify(resolve(ROOT, main))}`)
    .replace(/^directory\s*=\s*"([^"]+)"/m, (_line, dir: string) => {
      // wrangler refuses a missing assets directory; tests that never look at the dashboard need no build.
      mkdirSync(resolve(ROOT, dir), { recursive: true });
      return `directory = ${JSON.stringify(resolve(ROOT, dir))}`;
    });
  await writeFile(configPath, absolute);
  let port = await freePort();
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    const inspectorPort = await freePort();
    const vars = { ADMIN_TOKEN: adminToken, LOG_SIGNING_KEY: signingKey, ...options.vars };
    const args = [
      WRANGLER,
      "dev",
      "--config",
      configPath,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--show-interactive-dev-session=false",
      "--live-reload=false",
      "--log-level",
      "warn",
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ];
    const proc = spawn(process.execPath, args, {
      cwd: configDir,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        NO_COLOR: "1",
        CI: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child = proc;
    proc.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    proc.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`wrangler dev exited (${proc.exitCode ?? proc.signalCode}) before /health answered:\n${log.slice(-4000)}`);
      }
      if (await (options.misconfigured ? answers(url) : healthy(url, verifierKey))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    await stop();
    throw new Error(`wrangler dev did not answer /health within ${startTimeoutMs} ms:\n${log.slice(-4000)}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill("SIGTERM");
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000));
    if ((await Promise.race([exited, timer])) === "timeout" && proc.pid !== undefined) {
      // wrangler's own children (workerd) share its process group, started detached by us.
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    }
    // workerd may outlive a SIGTERMed wrangler briefly; end the group we created.
    if (proc.pid !== undefined) {
      try {
        process.kill(-proc.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  };

  // Ports come from "free a moment ago": with several Workers starting at once another process can
  // take one first, and wrangler exits. Try again on fresh ports.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 2) throw err;
      await stop();
      port = await freePort();
    }
  }

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    persistDir,
    adminToken,
    signingKey,
    verifierKey,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    output: () => log,
    stop,
    async dispose() {
      await stop();
      await rm(configDir, { recursive: true, force: true });
      if (ownPersistDir) await rm(persistDir, { recursive: true, force: true });
    },
    async restart() {
      await stop();
      // The same port if we can get it back (clients keep their URL); wait for the OS to free it.
      for (let attempt = 0; ; attempt++) {
        try {
          await launch();
          return;
        } catch (err) {
          if (attempt >= 2) throw err;
          await stop();
          await new Promise((r) => setTimeout(r, 1000));
          if (attempt === 1) port = await freePort();
        }
      }
    },
  };
}
