/**
 * The dashboard under a big fleet, in headless Debian Chromium: the real edge (wrangler dev) with the
 * simulator's agents (scripts/simulate, 1,000 by default, 2 summaries/s, no records) and one browser
 * signed in through the form. Measured:
 * - sign-in submit → performance.mark("circle-drawn") (the first drawn phase circle);
 * - frames per second on the overview over 10 s (requestAnimationFrame callbacks counted in the page);
 * - live-channel bytes per second over the same 10 s (CDP Network.webSocketFrameReceived payloads:
 *   what the page receives, after any per-message compression is undone);
 * - JavaScript shipped, gzipped (dist/dashboard/build-report.json of a fresh build).
 *
 * `npm run bench -- dashboard --agents 100` for a quick run (or DASHBOARD_BENCH_AGENTS=100).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { closeBrowsers, DASHBOARD_DIST, markTime, openDashboard, pageErrors, signIn } from "../test/support/browser.js";
import { startEdge, type RunningEdge } from "../test/support/edge.js";
import type { BenchRow, BenchSection } from "./section.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WINDOW_MS = 10_000;
const TARGET_FPS = 30;
const TARGET_BYTES_PER_S = 50 * 1024;
const TARGET_JS_GZ = 150 * 1024;

function agentsWanted(): number {
  const i = process.argv.indexOf("--agents");
  const text = i >= 0 ? process.argv[i + 1] : process.env.DASHBOARD_BENCH_AGENTS;
  const n = Number(text ?? 1000);
  if (!Number.isInteger(n) || n < 1 || n > 5000) throw new Error(`--agents must be an integer in 1–5000, got ${JSON.stringify(text)}`);
  return n;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fresh build, so the figure is the code's as it is now. */
async function buildReport(): Promise<{ jsGz: number; totalGz: number; files: string }> {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "build-dashboard.ts")], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  if (run.status !== 0) throw new Error(`dashboard build failed:\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(await readFile(join(DASHBOARD_DIST, "build-report.json"), "utf8")) as { files: { path: string; bytes: number; gzipBytes: number }[]; totalGzipBytes: number };
  const js = report.files.filter((f) => f.path.endsWith(".js"));
  return {
    jsGz: js.reduce((s, f) => s + f.gzipBytes, 0),
    totalGz: report.totalGzipBytes,
    files: report.files.map((f) => `${f.path.split("/").pop()} ${kb(f.gzipBytes)}`).join(", "),
  };
}

interface FleetCounts {
  readonly online: number;
  readonly total: number;
}

async function fleetCounts(edge: RunningEdge): Promise<FleetCounts> {
  const res = await fetch(`${edge.url}/v1/fleet`, { headers: { Authorization: `Bearer ${edge.adminToken}` }, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { agents: FleetCounts };
  return body.agents;
}

/** The simulator against our edge, for long enough to cover everything measured here. */
function startSimulator(edge: RunningEdge, agents: number, seconds: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const args = ["--import", "tsx", join(ROOT, "scripts", "simulate", "main.ts"), "--agents", String(agents), "--rate", "2", "--records", "0", "--duration", String(seconds), "--ping", "0", "--edge", edge.url, "--admin-token", edge.adminToken, "--json"];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

export default async function dashboardBench(): Promise<BenchSection> {
  const agents = agentsWanted();
  const build = await buildReport();
  const edge = await startEdge({ vars: { ENROLL_RATE_PER_MINUTE: String(agents * 2 + 100) } });
  // Enrollment (~6 s per 1,000 here) + connects + settle + sign-in + the 10 s window, with room to spare.
  const sim = startSimulator(edge, agents, 120 + Math.ceil(agents / 20));
  const rows: BenchRow[] = [];
  try {
    // Wait until (nearly) the whole fleet is connected, as an operator opening the dashboard would find it.
    const deadline = Date.now() + 240_000;
    let counts: FleetCounts = { online: 0, total: 0 };
    while (Date.now() < deadline) {
      if (sim.child.exitCode !== null) throw new Error(`simulator exited early:\n${sim.output().slice(-3000)}`);
      counts = await fleetCounts(edge).catch(() => counts);
      if (counts.online >= agents * 0.95) break;
      await sleep(1000);
    }
    await sleep(3000); // past the connect burst

    const page = await openDashboard(edge, { path: "/sign-in", viewport: "desktop" });
    // Our own CDP session counts what the live socket delivers (enabled before the socket opens).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    let counting = false;
    let bytes = 0;
    let frames = 0;
    let binaryFrames = 0;
    let agentUpdates = 0;
    cdp.on("Network.webSocketFrameReceived", (e: { response: { opcode: number; payloadData: string } }) => {
      if (!counting) return;
      frames++;
      if (e.response.opcode === 2) {
        binaryFrames++;
        const payload = Buffer.from(e.response.payloadData, "base64");
        bytes += payload.length;
        // Phase-frame header: u8 version, u8 reserved, u16 count (little-endian), f64 at.
        if (payload.length >= 4) agentUpdates += payload.readUInt16LE(2);
      } else bytes += Buffer.byteLength(e.response.payloadData, "utf8");
    });

    const { submittedAt } = await signIn(page, edge.adminToken, { waitForView: false });
    let drawnAt: number | null = null;
    const drawDeadline = Date.now() + 60_000;
    while (drawnAt === null && Date.now() < drawDeadline) {
      drawnAt = await markTime(page, "circle-drawn").catch(() => null);
      if (drawnAt === null) await sleep(50);
    }
    if (drawnAt === null) throw new Error(`no performance.mark("circle-drawn") within 60 s of sign-in; page errors: ${pageErrors(page).join("; ")}`);
    await sleep(2000); // the snapshot in, deltas flowing

    counting = true;
    const fps = await page.evaluate<{ frames: number; ms: number; worstMs: number }>(`new Promise((done) => {
      let frames = 0, worst = 0, last = performance.now();
      const start = last;
      const tick = (now) => {
        frames++; worst = Math.max(worst, now - last); last = now;
        if (now - start < ${WINDOW_MS}) requestAnimationFrame(tick);
        else done({ frames, ms: now - start, worstMs: worst });
      };
      requestAnimationFrame(tick);
    })`);
    counting = false;
    const seconds = fps.ms / 1000;
    const drawn = Number((await page.locator('canvas[data-testid="phase-circle"]').getAttribute("data-drawn")) ?? 0);
    counts = await fleetCounts(edge).catch(() => counts);

    const signInMs = drawnAt - submittedAt;
    const framesPerS = fps.frames / seconds;
    const bytesPerS = bytes / seconds;
    rows.push(
      { metric: `agents (simulated, 2 summaries/s, no records)`, value: `${counts.online} online of ${agents}; ${drawn} drawn` },
      { metric: "sign-in submit → circle drawn", value: `${Math.round(signInMs)} ms` },
      { metric: `overview frames per second (${WINDOW_MS / 1000} s)`, value: `${framesPerS.toFixed(1)} (worst frame ${Math.round(fps.worstMs)} ms)`, target: `≥ ${TARGET_FPS}`, pass: framesPerS >= TARGET_FPS },
      { metric: "live channel bytes per second", value: `${kb(bytesPerS)}/s (${(frames / seconds).toFixed(1)} msgs/s, ${binaryFrames} phase frames)`, target: `≤ ${kb(TARGET_BYTES_PER_S)}/s`, pass: bytesPerS <= TARGET_BYTES_PER_S },
      { metric: "agent updates carried in phase frames", value: `${(agentUpdates / seconds).toFixed(0)}/s (the agents offer ${agents * 2}/s; the edge forwards what it accepted)` },
      { metric: "JavaScript shipped (gzip)", value: `${kb(build.jsGz)} (all files ${kb(build.totalGz)}: ${build.files})`, target: `≤ ${kb(TARGET_JS_GZ)}`, pass: build.jsGz <= TARGET_JS_GZ },
    );
    const errors = pageErrors(page);
    if (errors.length > 0) rows.push({ metric: "page errors", value: errors.slice(0, 3).join("; ").slice(0, 200), target: "none", pass: false });
    await cdp.detach().catch(() => undefined);
  } finally {
    await closeBrowsers();
    if (sim.child.exitCode === null) sim.child.kill("SIGTERM");
    await Promise.race([sim.exited, sleep(15_000)]);
    if (sim.child.exitCode === null) sim.child.kill("SIGKILL");
    await edge.dispose();
  }
  return { title: `Dashboard (headless Chromium, ${agents} simulated agents at 2 Hz)`, rows };
}
