/**
 * The edge: `wrangler dev` (which runs workerd) in its own process group, health-checked on
 * /health every 2 s. Exited, or no healthy answer three checks in a row (hung) → the whole group is
 * stopped (SIGTERM, SIGKILL after 5 s) and started again on the same port and state, with backoff;
 * each restart is said with its cause and the log file that has wrangler's own output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { Backoff } from "./backoff.js";
import { edgeLog, type Layout } from "./paths.js";
import { freePort } from "./ports.js";
import { groupMembers, killGroupNow, stopGroup, type GroupWatch } from "./process-group.js";
import { rel, seconds, type Say } from "./say.js";

export const HEALTH_EVERY_MS = 2000;
export const HEALTH_TIMEOUT_MS = 2000;
export const FAILED_CHECKS_BEFORE_RESTART = 3;
/** Time allowed for one start (two busy cores can make wrangler's first bundle slow). */
export const START_TIMEOUT_MS = 120_000;

export type EdgeState = "starting" | "healthy" | "unhealthy" | "restarting" | "stopped";

export class EdgeNotConfiguredError extends Error {
  override readonly name = "EdgeNotConfiguredError";
}

export interface EdgeOptions {
  readonly layout: Layout;
  readonly port: number;
  readonly verbose: boolean;
  readonly say: Say;
  /** Told of each process group started and stopped (the reaper). */
  readonly groups: GroupWatch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EdgeProcess {
  readonly url: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private log: WriteStream;
  private stateValue: EdgeState = "stopped";
  private restartsValue = 0;
  private stopping = false;
  private failedChecks = 0;
  private startedAt = 0;
  private readonly backoff = new Backoff();
  private healthTimer: NodeJS.Timeout | undefined;
  private restartPromise: Promise<void> | undefined;
  /** Called once the edge is healthy again after a restart. */
  onRecovered: () => void = () => {};

  constructor(private readonly options: EdgeOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    this.logFile = edgeLog(options.layout);
    mkdirSync(options.layout.logs, { recursive: true, mode: 0o700 });
    this.log = createWriteStream(this.logFile, { flags: "a", mode: 0o600 });
  }

  get state(): EdgeState {
    return this.stateValue;
  }
  get restarts(): number {
    return this.restartsValue;
  }
  /** The process group of wrangler and its workerd (tests kill workerd through it). */
  get pgid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the edge and resolves once /health answers 200; throws if it does not within START_TIMEOUT_MS. */
  async start(): Promise<void> {
    await this.spawnOnce();
    await this.waitHealthy();
    if (!this.stopping) this.healthTimer = setInterval(() => void this.check(), HEALTH_EVERY_MS);
  }

  private async spawnOnce(): Promise<void> {
    const { layout } = this.options;
    const inspectorPort = await freePort();
    if (this.stopping) return; // stopped while we looked for a port: start nothing
    this.stateValue = "starting";
    this.failedChecks = 0;
    this.startedAt = Date.now();
    this.log.write(`\n=== ${new Date().toISOString()} npm start: wrangler dev on ${this.url}\n`);
    const child = spawn(
      process.execPath,
      [
        layout.wrangler,
        "dev",
        "--config",
        layout.wranglerToml,
        // The secrets file (mode 0600), so no secret is ever on a command line.
        "--env-file",
        layout.secretsFile,
        "--ip",
        "127.0.0.1",
        "--port",
        String(this.options.port),
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        layout.edgeState,
        "--show-interactive-dev-session=false",
        "--live-reload=false",
        "--log-level",
        "warn",
      ],
      {
        cwd: layout.root,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", CI: "1" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    this.child = child;
    if (child.pid !== undefined) this.options.groups.watch(child.pid);
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on("data", (chunk: Buffer) => {
        this.log.write(chunk);
        if (this.options.verbose) process.stderr.write(chunk.toString().replace(/^(?=.)/gm, "[edge] "));
      });
    }
    child.once("exit", (code, signal) => {
      if (this.stopping || this.child !== child) return;
      void this.restart(`wrangler exited (${code ?? signal})`);
    });
  }

  private async healthy(): Promise<number | undefined> {
    try {
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  }

  private async waitHealthy(): Promise<void> {
    const child = this.child;
    while (!this.stopping) {
      const status = await this.healthy();
      if (status === 200) {
        this.stateValue = "healthy";
        return;
      }
      if (status === 503) throw new EdgeNotConfiguredError(`the edge answers 503 on /health: its secrets are missing (see ${this.options.layout.secretsFile})`);
      if (child !== this.child) return; // a restart took over
      if (child?.exitCode !== null || child?.signalCode !== null) {
        throw new Error(`wrangler exited (${child?.exitCode ?? child?.signalCode}) before the edge answered; see ${rel(this.options.layout.root, this.logFile)}`);
      }
      if (Date.now() - this.startedAt > START_TIMEOUT_MS) throw new Error(`the edge did not answer /health within ${START_TIMEOUT_MS / 1000} s; see ${rel(this.options.layout.root, this.logFile)}`);
      await sleep(300);
    }
  }

  private async check(): Promise<void> {
    if (this.stopping || this.stateValue === "restarting" || this.stateValue === "starting") return;
    const status = await this.healthy();
    // The state may have moved while we awaited (a restart began).
    const now = this.stateValue as EdgeState;
    if (this.stopping || now === "restarting" || now === "starting") return;
    if (status === 200) {
      this.failedChecks = 0;
      this.stateValue = "healthy";
      return;
    }
    this.failedChecks++;
    this.stateValue = "unhealthy";
    if (this.failedChecks >= FAILED_CHECKS_BEFORE_RESTART) {
      void this.restart(`no healthy answer on /health ${this.failedChecks} checks in a row (${status === undefined ? "no answer within 2 s" : `HTTP ${status}`})`);
    }
  }

  private restart(cause: string): Promise<void> {
    if (this.restartPromise || this.stopping) return this.restartPromise ?? Promise.resolve();
    this.restartPromise = (async () => {
      this.stateValue = "restarting";
      this.restartsValue++;
      const delay = this.backoff.next(Date.now() - this.startedAt);
      this.options.say(`edge: ${cause}; restarting it in ${seconds(delay)} (restart ${this.restartsValue}); its output: ${rel(this.options.layout.root, this.logFile)}`);
      const old = this.child;
      if (old?.pid !== undefined) {
        const { killed, survivors } = await stopGroup(old.pid);
        if (survivors.length === 0) this.options.groups.forget(old.pid);
        if (killed) this.options.say(`edge: the old process group ignored SIGTERM for 5 s and was killed`);
        if (survivors.length > 0) this.options.say(`edge: pids ${survivors.join(", ")} survived SIGKILL (!)`);
      }
      await sleep(delay);
      while (!this.stopping) {
        try {
          await this.spawnOnce();
          await this.waitHealthy();
          if (this.stopping) break;
          const took = Date.now() - this.startedAt;
          this.options.say(`edge: healthy again on ${this.url} (after ${seconds(took)})`);
          this.onRecovered();
          break;
        } catch (err) {
          const wait = this.backoff.next(Date.now() - this.startedAt);
          this.options.say(`edge: restart failed: ${(err as Error).message}; trying again in ${seconds(wait)}`);
          const failed = this.child?.pid;
          if (failed !== undefined && (await stopGroup(failed)).survivors.length === 0) this.options.groups.forget(failed);
          await sleep(wait);
        }
      }
    })().finally(() => {
      this.restartPromise = undefined;
    });
    return this.restartPromise;
  }

  /** Stops the whole group (SIGTERM, SIGKILL after 5 s) and waits until none of it is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.stateValue = "stopped";
    const pid = this.child?.pid;
    if (pid !== undefined && groupMembers(pid).length > 0) {
      const { killed } = await stopGroup(pid);
      if (killed) this.options.say("  the edge ignored SIGTERM for 5 s and was killed");
    }
    if (pid !== undefined && groupMembers(pid).length === 0) this.options.groups.forget(pid);
    await new Promise<void>((r) => this.log.end(r));
  }

  /** On the way out after an uncaught error: nothing may outlive us. */
  killNow(): void {
    if (this.child?.pid !== undefined) killGroupNow(this.child.pid);
  }
}
