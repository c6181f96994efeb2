/**
 * Stopping, in order: the status line, the agents (SIGTERM: ledger flushed, socket closed with
 * 1001), then the edge's whole process group, then the lock. On Ctrl-C, SIGTERM (a service
 * manager), SIGHUP (the terminal went away) and on any uncaught error: nothing outlives `npm start`.
 */
import type { AgentProcess } from "./agent-process.js";
import type { EdgeProcess } from "./edge-process.js";
import type { Reaper } from "./reaper.js";
import { seconds, type Say } from "./say.js";

export class Shutdown {
  private agents: readonly AgentProcess[] = [];
  private edge: EdgeProcess | undefined;
  private readonly cleanups: { name: string; run: () => void }[] = [];
  private startedValue = false;

  constructor(
    private readonly say: Say,
    private readonly reaper: Reaper,
  ) {}

  get started(): boolean {
    return this.startedValue;
  }
  setEdge(edge: EdgeProcess): void {
    this.edge = edge;
  }
  setAgents(agents: readonly AgentProcess[]): void {
    this.agents = agents;
  }
  /** Run last, newest first (e.g. the lock's release). */
  add(name: string, run: () => void): void {
    this.cleanups.push({ name, run });
  }

  async run(why: string, code: number, { quiet = false } = {}): Promise<never> {
    if (this.startedValue) return new Promise<never>(() => {});
    this.startedValue = true;
    const t0 = Date.now();
    if (!quiet) this.say(`\nstopping (${why}) …`);
    for (const c of [...this.cleanups].reverse().filter((c) => c.name !== "lock")) c.run();
    await Promise.all(this.agents.map((a) => a.stop()));
    if (!quiet && this.agents.length > 0) this.say(`  ${this.agents.length} agent${this.agents.length === 1 ? "" : "s"} stopped`);
    if (this.edge) {
      await this.edge.stop();
      if (!quiet) this.say("  edge stopped");
    }
    for (const c of this.cleanups.filter((c) => c.name === "lock")) c.run();
    this.reaper.bye();
    if (!quiet) this.say(`all stopped in ${seconds(Date.now() - t0)}; state kept (npm start -- --fresh starts from empty state)`);
    process.exit(code);
  }

  /** No waiting: SIGKILL every group we started (second Ctrl-C, or a failure during shutdown). */
  killNow(): void {
    for (const a of this.agents) a.killNow();
    this.edge?.killNow();
    for (const c of this.cleanups.filter((c) => c.name === "lock")) c.run();
    this.reaper.bye();
  }
}

export function onShutdown(shutdown: Shutdown, warn: Say): void {
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches us twice at once (directly, and relayed by npm): only a second
    // signal some time after the first means "now".
    if (firstSignalAt > 0) {
      if (Date.now() - firstSignalAt > 1000) {
        warn(`second ${signal}: killing everything now`);
        shutdown.killNow();
        process.exit(130);
      }
      return;
    }
    firstSignalAt = Date.now();
    void shutdown.run(signal, signal === "SIGINT" ? 130 : 0);
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  const crash = (err: unknown) => {
    warn(`npm start: internal error: ${err instanceof Error ? err.message : String(err)}; stopping everything`);
    if (shutdown.started) {
      shutdown.killNow();
      process.exit(1);
    }
    void shutdown.run("internal error", 1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}
