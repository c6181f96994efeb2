/**
 * `npm start` as a whole, with real processes and the real edge (wrangler dev, workerd), in a
 * temporary data folder: the default port taken → the next one said; a second start on the same
 * folder refused; no token on any command line; a killed agent restarted and said; a killed
 * workerd → the edge restarted and the agents back online; SIGTERM → every process of every group
 * it started gone within seconds. The demo fleet locks (r ≥ 0.9) within a minute, and the phase-stream
 * agent's sync collapse reaches a webhook receiver.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";

const ENTRY = fileURLToPath(new URL("../../scripts/start-check.mjs", import.meta.url));
const data = mkdtempSync(join(tmpdir(), "bo-start-sup-"));
let supervisor: ChildProcess | undefined;
let holder: Server | undefined;
let receiver: Receiver | undefined;

afterAll(() => {
  if (supervisor?.pid !== undefined && supervisor.exitCode === null) supervisor.kill("SIGKILL");
  // Never our own group: the supervisor was spawned in vitest's, and its groups are its children's.
  const self = readFileSync("/proc/self/stat", "utf8");
  const ownGroup = Number(self.slice(self.lastIndexOf(")") + 2).split(" ")[2]);
  for (const p of procs()) if (p.cmdline.includes(data) && p.pgrp !== ownGroup) killQuietly(p.pgrp);
  holder?.close();
  void receiver?.close();
  rmSync(data, { recursive: true, force: true });
});

function killQuietly(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone
  }
}

interface Proc {
  readonly pid: number;
  readonly pgrp: number;
  readonly comm: string;
  readonly cmdline: string;
}

/** Every live process this user can see (Linux /proc). */
function procs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const rest = stat.slice(close + 2).split(" ");
      if (rest[0] === "Z") continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      out.push({ pid: Number(name), pgrp: Number(rest[2]), comm: stat.slice(stat.indexOf("(") + 1, close), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; npm start said:\n${output()}`);
    await sleep(200);
  }
}

const agentProc = (n: number) => procs().find((p) => p.cmdline.includes(`--data-dir ${join(data, "agents", String(n))} `));
const wranglerProc = () => procs().find((p) => p.cmdline.includes("wrangler.js dev") && p.cmdline.includes(`--persist-to ${join(data, "edge")}`) && p.pid === p.pgrp);

describe("npm start supervises the fleet", () => {
  it("moves off a taken default port, refuses a second start, keeps tokens off command lines, restarts a killed agent and a killed workerd, and stops everything on SIGTERM", { timeout: 300_000 }, async () => {
    // The default port taken (by us, unless something else already holds it).
    holder = createServer();
    await new Promise<void>((r) => {
      holder!.once("error", () => r());
      holder!.listen(8787, "127.0.0.1", r);
    });

    let out = "";
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_config_")));
    supervisor = spawn(process.execPath, [ENTRY, "--agents", "2", "--data", data], { env, stdio: ["ignore", "pipe", "pipe"] });
    supervisor.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    supervisor.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    const said = () => out;
    const t0 = Date.now();
    await until("the fleet to run", () => out.includes("BecomingONE fleet is running"), 180_000, said);
    const upMs = Date.now() - t0;
    expect(out).toMatch(/port 8787 is in use( by pid \d+[^;]*)?; the edge takes port \d+ instead/);
    const edgeUrl = /starting the edge \(wrangler dev, workerd\) on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect(edgeUrl).not.toBe("http://127.0.0.1:8787");
    expect(out).toContain(`dashboard   ${edgeUrl}/`);
    const page = await fetch(`${edgeUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>BecomingONE fleet</title>");

    // Secrets: a 0600 file, never on a command line; the enrollment token only in the agents' environment.
    const secretsFile = join(data, ".dev.vars");
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const adminToken = /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(secretsFile, "utf8"))![1]!;
    expect(out).not.toContain(adminToken);
    const agent1 = agentProc(1)!;
    const enrollToken = /(?:^|\0)BECOMINGONE_ENROLL_TOKEN=([^\0]+)/.exec(readFileSync(`/proc/${agent1.pid}/environ`, "utf8"))?.[1];
    expect(enrollToken, "the first start passes the enrollment token in the environment").toMatch(/^bet_/);
    for (const p of procs()) {
      expect(p.cmdline, `pid ${p.pid}`).not.toContain(adminToken);
      expect(p.cmdline, `pid ${p.pid}`).not.toContain(enrollToken!);
    }

    // One npm start per data folder.
    const second = spawnSync(process.execPath, [ENTRY, "--agents", "1", "--data", data], { env, encoding: "utf8", timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`another npm start is running on ${data} \\(pid ${supervisor.pid},`));

    const fleet = async () => {
      const res = await fetch(`${edgeUrl}/v1/fleet`, { headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { agents: { online: number } }) : undefined;
    };
    await until("both agents online", async () => ((await fleet())?.agents.online === 2 ? true : undefined), 60_000, said);

    // The demo fleet locks: r ≥ 0.9 over both agents within a minute of the start, from spread starting phases.
    const field = async () => {
      const res = await fetch(`${edgeUrl}/v1/fleet`, { headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { field: { r: number; n: number } }).field : undefined;
    };
    const locked = await until("r ≥ 0.9 over 2 agents", async () => {
      const f = await field();
      return f !== undefined && f.n === 2 && f.r >= 0.9 ? f : undefined;
    }, Math.max(1000, 60_000 - (Date.now() - t0)), said);
    console.log(`npm start: mesh r = ${locked.r.toFixed(3)} over ${locked.n} agents ${((Date.now() - t0) / 1000).toFixed(1)} s after the start`);
    // Held, not passed through: the two natural frequencies differ by 0.33 rad/s, so uncoupled phases
    // would drift more than 0.9 rad apart (r < 0.9) within these 15 s.
    for (let k = 0; k < 15; k++) {
      await sleep(1000);
      const f = await field();
      expect(f === undefined || f.n < 2 || f.r >= 0.9, `r held at ≥ 0.9 (sample ${k}: ${JSON.stringify(f)})`).toBe(true);
    }

    // Agent 1 runs the phase stream: a sync.collapse reaches a webhook receiver. Subscribed now, it
    // sees the collapse agent 1's restart below brings (the end of its first steady run's warm-up).
    receiver = await startReceiver();
    const created = await fetch(`${edgeUrl}/v1/webhooks/endpoints`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `${receiver.url}/hook`, eventTypes: ["sync.collapse"] }),
    });
    expect(created.status).toBe(201);
    receiver.secrets = [((await created.json()) as { secret: string }).secret];

    // A killed agent is restarted, and that is said with the cause and its log.
    process.kill(agent1.pid, "SIGKILL");
    await until("agent 1's restart", () => /agent 1: restarted \(pid \d+\)/.test(out), 60_000, said);
    expect(out).toMatch(/agent 1: exited \(SIGKILL\) after [\d.]+ s; restarting it in 1\.0 s; its log: .*agents?-1\.log/);
    const agent1Again = await until("a new agent 1 process", () => agentProc(1), 30_000, said);
    expect(agent1Again.pid).not.toBe(agent1.pid);
    const [collapse] = await receiver.waitFor(1, 90_000);
    expect(collapse!.verifyError).toBeNull();
    const event = JSON.parse(collapse!.body) as { type: string; data: { agentId: string } };
    expect(event.type).toBe("sync.collapse");

    // workerd killed under wrangler: the health check notices, the whole group is replaced, the agents come back.
    const wrangler = wranglerProc()!;
    const workerd = procs().filter((p) => p.pgrp === wrangler.pgrp && p.comm === "workerd");
    expect(workerd.length).toBeGreaterThan(0);
    for (const w of workerd) process.kill(w.pid, "SIGKILL");
    await until("the edge's restart", () => out.includes("edge: healthy again"), 120_000, said);
    expect(out).toMatch(/edge: (no healthy answer on \/health 3 checks in a row|wrangler exited)[^\n]*; restarting it in [\d.]+ s \(restart 1\); its output: .*edge\.log/);
    expect(procs().filter((p) => p.pgrp === wrangler.pgrp), "the old edge group is gone").toEqual([]);
    await until("both agents online again after the edge restart", async () => ((await fleet())?.agents.online === 2 ? true : undefined), 90_000, said);

    // SIGTERM: everything stops, in order, within seconds; no process of any group it started survives.
    const groups = new Set(procs().filter((p) => p.cmdline.includes(data) && p.pid !== supervisor!.pid).map((p) => p.pgrp));
    expect(groups.size).toBe(3); // the edge and two agents, each its own group
    const stopAt = Date.now();
    supervisor.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => supervisor!.once("exit", (c) => r(c)));
    const stopMs = Date.now() - stopAt;
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(15_000);
    expect(procs().filter((p) => groups.has(p.pgrp) || p.cmdline.includes(data))).toEqual([]);
    expect(out).toMatch(/all stopped in [\d.]+ s/);
    console.log(`npm start: fleet running after ${upMs} ms, stopped in ${stopMs} ms`);
  });

  it("resumes on the same state without enrolling again; killed with SIGKILL, it still leaves nothing running", { timeout: 180_000 }, async () => {
    let out = "";
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_config_")));
    const child = spawn(process.execPath, [ENTRY, "--agents", "1", "--data", data], { env, stdio: ["ignore", "pipe", "pipe"] });
    supervisor = child;
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    await until("the fleet to run", () => out.includes("BecomingONE fleet is running (1/1"), 180_000, () => out);
    expect(out).not.toContain("enrollment token");
    const groups = new Set(procs().filter((p) => p.cmdline.includes(data) && p.pid !== child.pid).map((p) => p.pgrp));
    expect(groups.size).toBe(2);
    // No handler runs on SIGKILL: the reaper (a tiny sh watching a pipe from npm start) stops the groups.
    child.kill("SIGKILL");
    await until("every group gone", () => (procs().some((p) => groups.has(p.pgrp) || p.cmdline.includes(data)) ? undefined : true), 15_000, () =>
      JSON.stringify(procs().filter((p) => groups.has(p.pgrp) || p.cmdline.includes(data))),
    );
  });
});
