/**
 * `npm start`: the whole fleet on this machine, supervised. The composition root: each step is a
 * part in its own module (see docs/start.md).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { adminClient, createEnrollmentToken, foldersToEnroll } from "./admin.js";
import { AgentProcess } from "./agent-process.js";
import { ensureDashboard } from "./dashboard.js";
import { demoFeed } from "./demo-feeds.js";
import { EdgeProcess } from "./edge-process.js";
import { parseStartFlags, USAGE, UsageError, type StartOptions } from "./flags.js";
import { removeState } from "./fresh.js";
import { takeStartLock } from "./lock.js";
import { agentDir, layout as makeLayout, ROOT } from "./paths.js";
import { chooseEdgePort } from "./ports.js";
import { Reaper } from "./reaper.js";
import { rel, say, seconds, warn } from "./say.js";
import { loadOrCreateSecrets } from "./secrets.js";
import { onShutdown, Shutdown } from "./shutdown.js";
import { startStatusLine, statusLine } from "./status-line.js";

const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const t0 = Date.now();

// 1. Flags: a bad one is one line and exit 2.
let options: StartOptions;
try {
  options = parseStartFlags(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  warn(`npm start: ${err.message}`);
  process.exit(2);
}
if (options.help) {
  say(USAGE);
  process.exit(0);
}
if (options.version) {
  say(`becomingone-fleet ${version}`);
  process.exit(0);
}

class SetupError extends Error {
  override readonly name = "SetupError";
}

const reaper = new Reaper();
const shutdown = new Shutdown(say, reaper);
onShutdown(shutdown, warn);

async function main(opts: StartOptions): Promise<void> {
  const layout = makeLayout(opts.data);
  const show = (p: string) => rel(ROOT, p);
  if (!existsSync(layout.wrangler)) throw new SetupError("wrangler is not installed: run `npm install` first");

  // 2. One npm start per data folder.
  mkdirSync(layout.data, { recursive: true, mode: 0o700 });
  shutdown.add("lock", takeStartLock(layout.lockFile, layout.data));
  if (opts.fresh) {
    removeState(layout);
    say(`--fresh: removed ${show(layout.edgeState)} and ${show(layout.agentsDir)}`);
  }

  // 3. Secrets in a 0600 file, a port for the edge.
  const secrets = loadOrCreateSecrets(layout.secretsFile);
  if (secrets.created) say(`wrote fresh local secrets to ${show(layout.secretsFile)} (mode 0600, git-ignored)`);
  const port = await chooseEdgePort(opts.port, opts.portExplicit);
  if (shutdown.started) return;
  if (port.movedFrom) say(`port ${port.movedFrom.port} is in use${port.movedFrom.holder ? ` by ${port.movedFrom.holder}` : ""}; the edge takes port ${port.port} instead`);

  // 4. The dashboard's files (the edge serves them), then the edge, supervised.
  const built = await ensureDashboard(ROOT);
  if (built !== undefined) say(`built the dashboard in ${seconds(built)} (dist/dashboard)`);
  if (shutdown.started) return;
  const edge = new EdgeProcess({ layout, port: port.port, verbose: opts.verbose, say, groups: reaper });
  shutdown.setEdge(edge);
  say(`starting the edge (wrangler dev, workerd) on ${edge.url}; its log: ${show(edge.logFile)}`);
  await edge.start();
  if (shutdown.started) return;
  say(`edge ready after ${seconds(Date.now() - t0)}`);
  const admin = adminClient(edge.url, secrets.adminToken);

  // 5. Agents: the ones without an identity enroll themselves with a token passed in their environment.
  const dirs = Array.from({ length: opts.agents }, (_, i) => agentDir(layout, i + 1));
  const toEnroll = await foldersToEnroll(admin, dirs);
  if (shutdown.started) return;
  const enrollment = toEnroll.length > 0 ? await createEnrollmentToken(admin, toEnroll.length) : undefined;
  if (shutdown.started) return;
  if (enrollment) say(`enrollment token ${enrollment.id} for ${toEnroll.length} new agent(s) (passed in their environment, never on a command line)`);
  const agents = dirs.map(
    (_, i) => new AgentProcess({ n: i + 1, layout, edgeUrl: edge.url, feed: demoFeed(i + 1), verbose: opts.verbose, say, groups: reaper, enrollToken: enrollment?.token }),
  );
  shutdown.setAgents(agents);
  for (const a of agents) if (!shutdown.started) await a.start();
  const readyBy = Date.now() + 90_000;
  while (agents.some((a) => !a.ready) && Date.now() < readyBy && !shutdown.started) await new Promise((r) => setTimeout(r, 200));
  if (shutdown.started) return;

  // 6. What is running, and how to get in.
  say("");
  say(`BecomingONE fleet is running (${agents.filter((a) => a.ready).length}/${agents.length} agents ready after ${seconds(Date.now() - t0)})`);
  say(`  dashboard   ${edge.url}/`);
  say(`  sign in     paste the admin token; it is in ${show(layout.secretsFile)} (mode 0600): grep ^ADMIN_TOKEN= ${show(layout.secretsFile)}`);
  say(`  edge        ${edge.url}   state ${show(layout.edgeState)}, log ${show(edge.logFile)}`);
  say(`  global log  ${edge.url}/v1/log/checkpoint`);
  for (const a of agents) say(`  agent ${String(a.n).padEnd(3)}   ${a.api ?? "(not ready yet; see its log)"}  ${a.agentId ?? ""}  log ${show(a.logFile)}`);
  say(`  data        ${show(layout.data)} (one npm start at a time; --fresh starts from empty state)`);
  say("Ctrl-C stops everything.");
  say(await statusLine(agents, edge, admin, layout.logs));
  shutdown.add("status line", startStatusLine(agents, edge, admin, layout.logs, say));
  edge.onRecovered = () => say("edge: the agents reconnect by themselves (their link retries with backoff)");
}

main(options).catch((err: unknown) => {
  // Expected refusals (lock, port, secrets) are one line; anything else is a bug: one line too (BECOMINGONE_START_DEBUG=1 adds the stack).
  const known = ["SetupError", "DashboardBuildError", "StartLockedError", "PortTakenError", "SecretsError", "FreshRefusedError", "EdgeNotConfiguredError"];
  const e = err instanceof Error ? err : new Error(String(err));
  warn(`npm start: ${e.message}`);
  if (!known.includes(e.name) && process.env.BECOMINGONE_START_DEBUG) warn(e.stack ?? "");
  void shutdown.run("start failed", 1, { quiet: known.includes(e.name) });
});
