import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { issueToken } from "../test/edge/fleet-client.js";
import { agentReadyLine } from "../test/support/agentReadyLine.js";
import { startEdge } from "../test/support/edge.js";
import { haveOpenssl, makeSelfSignedCert } from "../test/support/selfSignedCert.js";
import { deployedNode } from "../test/support/systemdUnit.js";
import type { BenchRow, BenchSection } from "./section.js";

// The agent under attack: the real agent process (dist/) at 20 Hz with tokens streaming in on
// stdin, linked to a local edge (wrangler dev), with the systemd unit's Node options, as in
// agent.bench.ts. Three attacks, one after another, each for PHASE_MS, each attacker reconnecting
// as soon as it is cut: five sockets that pipeline GET /metrics and never read; 300 connections
// that never send a byte (the connection cap is 256); and, against a second agent serving TLS, 300
// TCP connections that never send a ClientHello. Meanwhile a well-behaved client asks GET /health
// on a fresh connection every 100 ms. Ticks missed come from the agent's /metrics; RSS from /proc.
// BENCH_AGENT_MAIN=path/to/main.js runs the same attacks against another build (e.g. an older one).
const HZ = 20;
const PHASE_MS = 15_000;
const POLL_MS = 100;
const PIPELINERS = 5;
const IDLE_CONNECTIONS = 300;
const TLS_STALLERS = 300;

const root = fileURLToPath(new URL("../", import.meta.url));
const main = process.env.BENCH_AGENT_MAIN ?? join(root, "dist/agent/cli/main.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15, at 100 ticks a second). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Target {
  readonly port: number;
  readonly tls: boolean;
  readonly ca?: Buffer;
}

/** One GET on a fresh connection; resolves with its latency or with undefined on failure. */
function get(target: Target, path: string, timeoutMs = 10_000): Promise<{ ms: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const started = performance.now();
    const options = { host: "127.0.0.1", port: target.port, path, agent: false, timeout: timeoutMs, ...(target.ca ? { ca: target.ca } : {}) };
    const req = (target.tls ? httpsRequest : httpRequest)(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(res.statusCode === 200 ? { ms: performance.now() - started, body } : undefined));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

function metric(text: string, name: string): number {
  const escaped = name.replace(/[{}".]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

interface Agent {
  readonly child: ChildProcessWithoutNullStreams;
  readonly target: Target;
  stop(): Promise<void>;
}

async function startAgentProcess(args: string[], tls?: { cert: string; key: string }): Promise<Agent> {
  const unit = deployedNode();
  const child = spawn(
    process.execPath,
    [...unit.flags, main, "run", "--port", "0", "--hz", String(HZ), "--stdin", "--log-level", "error", ...args, ...(tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : [])],
    { stdio: ["pipe", "pipe", "pipe"], cwd: root, env: { ...process.env, ...unit.env } },
  );
  child.stderr.resume();
  const ready = await agentReadyLine(child);
  // Tokens a little faster than the clock takes them, as in agent.bench.ts.
  let n = 0;
  const feeder = setInterval(() => child.stdin.write(`word${n++ % 97} `), 1000 / 12);
  return {
    child,
    target: { port: Number(new URL(ready.api).port), tls: tls !== undefined, ...(tls ? { ca: readFileSync(tls.cert) } : {}) },
    async stop() {
      clearInterval(feeder);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** An attacker connection that reconnects when cut, noting how long each connection lived. */
class Attackers {
  readonly lifetimes: number[] = [];
  private readonly sockets = new Set<Socket>();
  private stopped = false;

  constructor(
    private readonly port: number,
    private readonly count: number,
    private readonly onConnect: (s: Socket) => void,
  ) {}

  start(): void {
    for (let i = 0; i < this.count; i++) this.open();
  }

  /** Attacker connections open now. */
  get openNow(): number {
    return this.sockets.size;
  }

  private open(): void {
    if (this.stopped) return;
    const opened = performance.now();
    const s = connect(this.port, "127.0.0.1");
    this.sockets.add(s);
    s.on("error", () => {});
    s.on("connect", () => this.onConnect(s));
    s.on("close", () => {
      this.sockets.delete(s);
      if (this.stopped) return;
      this.lifetimes.push(performance.now() - opened);
      setTimeout(() => this.open(), 20);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

interface PhaseResult {
  readonly name: string;
  readonly missed: number;
  readonly healthOk: number;
  readonly healthFailed: number;
  readonly p50: number;
  readonly p99: number;
  readonly rssMax: number;
  /** The agent's CPU over the phase, % of one core. */
  readonly cpuPercent: number;
  readonly attackerConnections: number;
  readonly cutP50: number;
  readonly cutMax: number;
  /** Attacker connections still open when the phase ended (never cut). */
  readonly neverCut: number;
}

async function runPhase(name: string, agent: Agent, attackers: Attackers): Promise<PhaseResult> {
  const before = await get(agent.target, "/metrics");
  const missed0 = before ? metric(before.body, "becomingone_ticks_missed_total") : Number.NaN;
  let rssMax = rssBytes(agent.child.pid!);
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(agent.child.pid!))), 100);
  const cpu0 = cpuSeconds(agent.child.pid!);
  const t0 = performance.now();
  attackers.start();
  const latencies: number[] = [];
  let failed = 0;
  const end = performance.now() + PHASE_MS;
  while (performance.now() < end) {
    const started = performance.now();
    const r = await get(agent.target, "/health");
    if (r) latencies.push(r.ms);
    else failed++;
    await sleep(Math.max(0, POLL_MS - (performance.now() - started)));
  }
  const open = attackers.openNow;
  const cpuPercent = ((cpuSeconds(agent.child.pid!) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  attackers.stop();
  clearInterval(rssTimer);
  await sleep(500);
  const after = await get(agent.target, "/metrics");
  const missed1 = after ? metric(after.body, "becomingone_ticks_missed_total") : Number.NaN;
  latencies.sort((a, b) => a - b);
  const cuts = [...attackers.lifetimes].sort((a, b) => a - b);
  return {
    name,
    missed: missed1 - missed0,
    healthOk: latencies.length,
    healthFailed: failed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    rssMax,
    cpuPercent,
    attackerConnections: cuts.length + open,
    cutP50: quantile(cuts, 0.5),
    cutMax: cuts.length > 0 ? cuts[cuts.length - 1]! : Number.NaN,
    neverCut: open,
  };
}

function rows(r: PhaseResult): BenchRow[] {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "—");
  return [
    { metric: `${r.name}: ticks missed`, value: String(r.missed), target: "0", pass: r.missed === 0 },
    { metric: `${r.name}: GET /health ok / failed`, value: `${r.healthOk} / ${r.healthFailed}`, target: "0 failed", pass: r.healthFailed === 0 },
    { metric: `${r.name}: GET /health p50 / p99`, value: `${ms(r.p50)} / ${ms(r.p99)}`, target: "p99 ≤ 100 ms", pass: r.p99 <= 100 },
    { metric: `${r.name}: agent RSS (max)`, value: mb(r.rssMax), target: "≤ 100 MB", pass: r.rssMax <= 100 * 1024 * 1024 },
    { metric: `${r.name}: agent CPU (one core)`, value: `${r.cpuPercent.toFixed(1)} %` },
    {
      metric: `${r.name}: attacker connections, lifetime p50 / max (open at the end)`,
      value: `${r.attackerConnections}, ${ms(r.cutP50)} / ${ms(r.cutMax)} (${r.neverCut})`,
    },
  ];
}

export default async function attackBench(): Promise<BenchSection> {
  const title = `Agent under attack (real process at ${HZ} Hz with tokens streaming, linked to a local edge; ${PHASE_MS / 1000} s per phase, attackers reconnect when cut; ${main === join(root, "dist/agent/cli/main.js") ? "dist" : main})`;
  if (!existsSync("/proc/self/status") || !existsSync(main)) return { title, rows: [{ metric: "skipped", value: "needs /proc (Linux) and a build (npm run build)" }] };
  const dir = mkdtempSync(join(tmpdir(), "bo-bench-attack-"));
  const edge = await startEdge();
  const agents: Agent[] = [];
  try {
    const plain = await startAgentProcess(["--data-dir", join(dir, "plain"), "--edge", edge.url, "--token", (await issueToken(edge)).token]);
    agents.push(plain);
    await sleep(3000); // start-up and enrollment out of the way

    const burst = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(2000);
    const pipeliners = new Attackers(plain.target.port, PIPELINERS, (s) => {
      s.pause(); // never reads an answer
      const write = () => {
        if (s.destroyed) return;
        // Only as fast as the kernel takes it: the attacker's own memory stays small.
        if (!s.writableNeedDrain) s.write(burst);
        setTimeout(write, 50);
      };
      write();
    });
    const results: PhaseResult[] = [await runPhase(`${PIPELINERS} pipelining non-readers`, plain, pipeliners)];
    results.push(await runPhase(`${IDLE_CONNECTIONS} idle connections`, plain, new Attackers(plain.target.port, IDLE_CONNECTIONS, () => {})));

    const out: BenchRow[] = results.flatMap(rows);
    if (haveOpenssl()) {
      const { cert, key } = makeSelfSignedCert(dir);
      const secure = await startAgentProcess(["--data-dir", join(dir, "tls"), "--edge", edge.url, "--token", (await issueToken(edge)).token], { cert, key });
      agents.push(secure);
      await sleep(3000);
      out.push(...rows(await runPhase(`TLS: ${TLS_STALLERS} connections without ClientHello`, secure, new Attackers(secure.target.port, TLS_STALLERS, () => {}))));
    } else {
      out.push({ metric: "TLS stall flood", value: "skipped (no openssl)" });
    }
    return { title, rows: out };
  } finally {
    for (const a of agents) await a.stop();
    await edge.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
