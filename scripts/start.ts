/**
 * `npm start`: the whole system on this machine.
 *
 * 1. The edge Worker in workerd (`wrangler dev`), its Durable Object state persisted under
 *    .data/edge. On the first run it writes local secrets (ADMIN_TOKEN, LOG_SIGNING_KEY, a fixed
 *    LOG_ORIGIN) to the git-ignored .dev.vars, which wrangler reads.
 * 2. An enrollment token from the admin API, for the agents not enrolled yet.
 * 3. Three agents (`becomingone-agent run` from the TypeScript sources via tsx; no build needed),
 *    each with its data dir .data/agents/N and its own local API port, fed a built-in demo text on
 *    standard input; they enroll themselves on their first start and stream to the edge.
 *
 * Ctrl-C or SIGTERM stops the agents (SIGTERM: ledger flushed, socket closed with 1001), then the
 * edge (SIGTERM to wrangler's pid), waiting for every exit. Flags: --agents N (1–9, default 3),
 * --port P (edge, default 8787 or a free one), --verbose (agent logs on the console too).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateSignerKey } from "../shared/note/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DATA = join(ROOT, ".data");
const DEV_VARS = join(ROOT, ".dev.vars");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const AGENT_MAIN = join(ROOT, "agent", "cli", "main.ts");

const { values: flags } = parseArgs({
  options: { agents: { type: "string" }, port: { type: "string" }, verbose: { type: "boolean" } },
  strict: true,
});
const AGENTS = Number(flags.agents ?? 3);
if (!Number.isInteger(AGENTS) || AGENTS < 1 || AGENTS > 9) fail(`--agents must be 1–9, got ${flags.agents}`);

function say(line = ""): void {
  process.stdout.write(line + "\n");
}
function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

/** The preferred port if it is free on 127.0.0.1, else any free one. */
async function pickPort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer();
      server.once("error", () => done(undefined));
      server.listen(port, "127.0.0.1", () => {
        const a = server.address();
        const got = typeof a === "object" && a ? a.port : undefined;
        server.close(() => done(got));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0)) ?? fail("no free port on 127.0.0.1");
}

/** KEY=VALUE lines of .dev.vars, written with fresh secrets on the first run. */
function loadOrCreateDevVars(): Record<string, string> {
  if (!existsSync(DEV_VARS)) {
    const { signerKey, verifierKey } = generateSignerKey("becomingone-edge-local");
    const text = [
      "# Written by `npm start` on its first run. Local secrets for `wrangler dev`; never commit this file.",
      `ADMIN_TOKEN=adm_${randomBytes(24).toString("base64url")}`,
      `LOG_SIGNING_KEY=${signerKey}`,
      `# verifier key (public): ${verifierKey}`,
      "LOG_ORIGIN=becomingone.local/fleet/{fleet}",
      "# Local development: webhook endpoints on this machine (http://127.0.0.1:…) are allowed. Never set on a deployed Worker.",
      "WEBHOOKS_ALLOW_LOOPBACK=1",
      "",
    ].join("\n");
    writeFileSync(DEV_VARS, text, { mode: 0o600 });
    chmodSync(DEV_VARS, 0o600);
    say(`wrote fresh local secrets to ${relative(ROOT, DEV_VARS)} (git-ignored)`);
  }
  const vars: Record<string, string> = {};
  for (const line of readFileSync(DEV_VARS, "utf8").split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  if (!vars.ADMIN_TOKEN || !vars.LOG_SIGNING_KEY) fail(`${DEV_VARS} lacks ADMIN_TOKEN or LOG_SIGNING_KEY; delete it to get fresh ones`);
  return vars;
}

/** Resolves with the child's exit (code or signal). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}

async function stopChild(child: ChildProcess, name: string, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
  if ((await Promise.race([exited(child), timer])) === "timeout") {
    say(`${name} did not stop within ${timeoutMs / 1000} s; killing it`);
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
    await exited(child);
  }
}

// ---- demo text: what the agents "hear" (one word per token at the clock rate) ----
const DEMO_TEXT = `the kairos engine listens to a stream of tokens and keeps two clocks one fast one slow
when they agree the field collapses into a memory and the agent seals it into its ledger
every record is signed by the device key and sent to the edge which keeps one global log
anyone can check that a record is in the log and that the log only ever grew
the fleet couples its phases through a mean field so many small devices keep time together`.split("\n");

function feedDemoText(child: ChildProcess, seed: number): () => void {
  let stopped = false;
  let line = seed;
  const stdin = child.stdin!;
  stdin.on("error", () => {
    stopped = true;
  });
  const pump = (): void => {
    while (!stopped) {
      const text = DEMO_TEXT[line++ % DEMO_TEXT.length]! + "\n";
      if (!stdin.write(text)) {
        stdin.once("drain", pump);
        return;
      }
    }
  };
  pump();
  return () => {
    stopped = true;
    stdin.end();
  };
}

interface RunningAgent {
  readonly n: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly log: WriteStream;
  stopFeed: () => void;
  api: string | undefined;
  agentId: string | undefined;
}

async function main(): Promise<void> {
  if (!existsSync(WRANGLER)) fail("wrangler is not installed: run `npm install` first");
  mkdirSync(DATA, { recursive: true, mode: 0o700 });
  const vars = loadOrCreateDevVars();
  const adminToken = vars.ADMIN_TOKEN!;
  const edgePort = await pickPort(Number(flags.port ?? process.env.PORT ?? 8787));
  const inspectorPort = await pickPort(0);
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const edgeLogPath = join(DATA, "edge.log");
  const edgeLog = createWriteStream(edgeLogPath, { flags: "a" });

  let shuttingDown = false;
  const agents: RunningAgent[] = [];
  let edge: ChildProcess | undefined;

  const shutdown = async (why: string, code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`\nstopping (${why}) …`);
    for (const a of agents) a.stopFeed();
    await Promise.all(agents.map((a) => stopChild(a.child, `agent ${a.n}`)));
    for (const a of agents) say(`  agent ${a.n} stopped (${a.child.exitCode ?? a.child.signalCode})`);
    if (edge) {
      await stopChild(edge, "the edge");
      // workerd runs in wrangler's process group; make sure none of it outlives us.
      if (edge.pid !== undefined) {
        try {
          process.kill(-edge.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      say(`  edge stopped (${edge.exitCode ?? edge.signalCode})`);
    }
    for (const a of agents) a.log.end();
    edgeLog.end();
    say("all stopped; state kept in .data/ (delete it and .dev.vars to start from scratch)");
    process.exit(code);
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A terminal's Ctrl-C may reach us twice at once (directly and relayed by npm/tsx): only a
    // second signal some time after the first means "now".
    if (firstSignalAt > 0 && Date.now() - firstSignalAt > 500) {
      say(`second ${signal}: exiting at once`);
      process.exit(130);
    }
    if (firstSignalAt === 0) firstSignalAt = Date.now();
    void shutdown(signal, 0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // ---- 1. the edge ----
  say(`starting the edge (wrangler dev, workerd) on ${edgeUrl}; its log: ${relative(ROOT, edgeLogPath)}`);
  edge = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--config",
      join(ROOT, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(edgePort),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      join(DATA, "edge"),
      "--show-interactive-dev-session=false",
      "--live-reload=false",
      "--log-level",
      "warn",
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", CI: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a terminal's Ctrl-C reaches only us, and we stop things in order.
      detached: true,
    },
  );
  edge.stdout!.pipe(edgeLog, { end: false });
  edge.stderr!.pipe(edgeLog, { end: false });
  edge.once("exit", (code, signal) => {
    if (!shuttingDown) {
      process.stderr.write(`the edge exited unexpectedly (${code ?? signal}); see ${edgeLogPath}\n`);
      void shutdown("edge exited", 1);
    }
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (shuttingDown) return;
    try {
      const res = await fetch(`${edgeUrl}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.ok) break;
      if (res.status === 503) {
        await shutdown(`the edge is not configured: ${body}`, 1);
        return;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await shutdown("the edge did not come up within 120 s", 1);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  say(`edge ready: ${edgeUrl}`);

  const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${edgeUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };

  // ---- 2. enrollment token for the agents not enrolled yet ----
  const dirs = Array.from({ length: AGENTS }, (_, i) => join(DATA, "agents", String(i + 1)));
  const toEnroll: string[] = [];
  for (const dir of dirs) {
    const idFile = join(dir, "edge-identity.json");
    if (existsSync(idFile)) {
      // The edge's state may have been deleted while the agent kept its identity: enroll again then.
      const { agentId } = JSON.parse(readFileSync(idFile, "utf8")) as { agentId: string };
      const res = await admin("GET", `/v1/agents/${agentId}`);
      if (res.status === 200) continue;
      say(`  ${relative(ROOT, dir)}: the edge no longer knows ${agentId}; enrolling it again`);
      rmSync(idFile);
      // A new edge log: the checkpoint kept from the old one no longer applies. The ledger stays and is replayed from seq 0.
      rmSync(join(dir, "edge-checkpoint.note"), { force: true });
    }
    toEnroll.push(dir);
  }
  let token: string | undefined;
  if (toEnroll.length > 0) {
    const res = await admin("POST", "/v1/enrollment-tokens", { name: "npm start", maxUses: toEnroll.length, expiresInSeconds: 3600 });
    if (res.status !== 201 || typeof res.json.token !== "string") {
      await shutdown(`cannot create an enrollment token: HTTP ${res.status} ${JSON.stringify(res.json)}`, 1);
      return;
    }
    token = res.json.token;
    say(`created enrollment token ${String(res.json.id)} for ${toEnroll.length} agent(s)`);
  }

  // ---- 3. the agents ----
  const preferredApiPort = 8421;
  for (const [i, dataDir] of dirs.entries()) {
    const n = i + 1;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const port = await pickPort(preferredApiPort + i);
    const args = ["--import", "tsx", AGENT_MAIN, "run", "--data-dir", dataDir, "--port", String(port), "--stdin", "--edge", edgeUrl];
    if (toEnroll.includes(dataDir) && token) args.push("--token", token);
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true, env: { ...process.env, NO_COLOR: "1" } });
    const logFile = join(dataDir, "agent.log");
    const log = createWriteStream(logFile, { flags: "a" });
    const agent: RunningAgent = { n, dataDir, child, logFile, log, stopFeed: () => {}, api: undefined, agentId: undefined };
    agents.push(agent);
    child.stderr!.on("data", (chunk: Buffer) => {
      log.write(chunk);
      if (flags.verbose) process.stderr.write(chunk.toString().replace(/^(?=.)/gm, `[agent ${n}] `));
      else {
        for (const line of chunk.toString().split("\n")) if (/"level":"error"/.test(line)) process.stderr.write(`[agent ${n}] ${line}\n`);
      }
    });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try {
          const ev = JSON.parse(line) as { event?: string; api?: string | null; agentId?: string };
          if (ev.event === "ready") {
            agent.api = ev.api ?? undefined;
            agent.agentId = ev.agentId;
          }
        } catch {
          log.write(line + "\n");
        }
      }
    });
    child.once("exit", (code, signal) => {
      if (!shuttingDown) process.stderr.write(`agent ${n} exited (${code ?? signal}); see ${logFile}\n`);
    });
    agent.stopFeed = feedDemoText(child, i);
  }

  const readyBy = Date.now() + 60_000;
  while (agents.some((a) => a.api === undefined && a.child.exitCode === null) && Date.now() < readyBy && !shuttingDown) {
    await new Promise((r) => setTimeout(r, 200));
  }
  if (shuttingDown) return;

  say("");
  say("BecomingONE fleet is running");
  say(`  edge       ${edgeUrl}   (state: .data/edge, log: .data/edge.log)`);
  say(`  admin      Authorization: Bearer <ADMIN_TOKEN from .dev.vars>`);
  say(`             e.g. curl -H "Authorization: Bearer $(grep ^ADMIN_TOKEN= .dev.vars | cut -d= -f2)" ${edgeUrl}/v1/fleet`);
  say(`  global log ${edgeUrl}/v1/log/checkpoint   ${edgeUrl}/v1/log/entries?start=0`);
  for (const a of agents) {
    say(`  agent ${a.n}    ${a.api ?? "(not ready; see its log)"}   ${a.agentId ?? ""}`);
    say(`             data ${relative(ROOT, a.dataDir)}, log ${relative(ROOT, a.logFile)}`);
  }
  say(`  try        curl ${agents[0]?.api ?? "http://127.0.0.1:8421"}/coherence`);
  say("Ctrl-C stops everything.");

  // A status line now and then, so a quiet terminal still shows the fleet is alive.
  const status = setInterval(() => {
    void admin("GET", "/v1/fleet")
      .then(({ status: code, json }) => {
        if (code !== 200 || shuttingDown) return;
        const a = json.agents as { online?: number; quarantined?: number } | undefined;
        const f = json.field as { r?: number; n?: number } | undefined;
        const l = json.log as { size?: number } | undefined;
        say(`[${new Date().toISOString()}] fleet: ${a?.online ?? 0} online, ${a?.quarantined ?? 0} quarantined; field r = ${(f?.r ?? 0).toFixed(3)} over ${f?.n ?? 0}; global log ${l?.size ?? 0} records`);
      })
      .catch(() => {});
  }, 30_000);
  status.unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
