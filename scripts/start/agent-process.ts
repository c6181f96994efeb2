/**
 * One supervised agent: `becomingone-agent run` from the TypeScript sources (tsx) in its own
 * process group, with its own data folder, fed its demo stream on stdin. It enrolls itself on its
 * first start with the enrollment token passed in the environment (never in argv: `ps` shows
 * argv to every user). A dead agent is restarted with backoff (1 s → 30 s, reset after 60 s up),
 * and the restart is said with the cause and the agent's log file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { Backoff } from "./backoff.js";
import type { DemoFeed, DemoSource } from "./demo-feeds.js";
import { agentDir, agentLog, type Layout } from "./paths.js";
import { freePort } from "./ports.js";
import { groupMembers, killGroupNow, stopGroup, type GroupWatch } from "./process-group.js";
import { rel, seconds, type Say } from "./say.js";

export const FIRST_API_PORT = 8421;

export interface AgentOptions {
  readonly n: number;
  readonly layout: Layout;
  readonly edgeUrl: string;
  readonly feed: DemoFeed;
  readonly verbose: boolean;
  readonly say: Say;
  /** Told of each process group started and stopped (the reaper). */
  readonly groups: GroupWatch;
  /** The enrollment token, until the agent stored its identity. */
  enrollToken: string | undefined;
}

export class AgentProcess {
  readonly n: number;
  readonly dataDir: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  private stopping = false;
  private startedAt = 0;
  private readonly backoff = new Backoff();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopFeed: () => void = () => {};
  private restartsValue = 0;
  api: string | undefined;
  agentId: string | undefined;

  constructor(private readonly options: AgentOptions) {
    this.n = options.n;
    this.dataDir = agentDir(options.layout, options.n);
    this.logFile = agentLog(options.layout, options.n);
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    mkdirSync(options.layout.logs, { recursive: true, mode: 0o700 });
    this.log = createWriteStream(this.logFile, { flags: "a", mode: 0o600 });
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }
  get ready(): boolean {
    return this.running && this.api !== undefined;
  }
  get restarts(): number {
    return this.restartsValue;
  }
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  async start(): Promise<void> {
    const { layout, feed } = this.options;
    const configFile = join(this.dataDir, "npm-start-config.json");
    const sources = feed.source.kind === "phase" ? { phaseStream: { coherentTokens: feed.source.coherentTokens, scatterTokens: feed.source.scatterTokens, seed: feed.source.seed } } : { stdin: true };
    writeFileSync(configFile, JSON.stringify({ mesh: { omega: feed.omega, theta0: feed.theta0 }, sources, edge: { name: `demo-${this.n}` } }) + "\n", { mode: 0o600 });
    const port = await freePort(FIRST_API_PORT + this.n - 1);
    // Stopped while we looked for a port (Ctrl-C during start-up): start nothing.
    if (this.stopping) return;
    const args = ["--import", "tsx", layout.agentMain, "run", "--data-dir", this.dataDir, "--config", configFile, "--port", String(port), "--hz", String(feed.hz), "--edge", this.options.edgeUrl];
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.BECOMINGONE_ENROLL_TOKEN;
    const enrolled = existsSync(join(this.dataDir, "edge-identity.json"));
    if (!enrolled && this.options.enrollToken) env.BECOMINGONE_ENROLL_TOKEN = this.options.enrollToken;
    this.api = undefined;
    this.startedAt = Date.now();
    this.log.write(`\n=== ${new Date().toISOString()} npm start: agent ${this.n} (${feed.describe})\n`);
    const child = spawn(process.execPath, args, { cwd: layout.root, stdio: ["pipe", "pipe", "pipe"], detached: true, env });
    this.child = child;
    if (child.pid !== undefined) this.options.groups.watch(child.pid);
    child.stderr!.on("data", (chunk: Buffer) => {
      this.log.write(chunk);
      if (this.options.verbose) process.stderr.write(chunk.toString().replace(/^(?=.)/gm, `[agent ${this.n}] `));
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
            this.api = ev.api ?? undefined;
            this.agentId = ev.agentId;
          }
        } catch {
          this.log.write(line + "\n");
        }
      }
    });
    child.once("exit", (code, signal) => this.exited(child, code, signal));
    const source = this.options.feed.source;
    if (source.kind === "text") this.stopFeed = feedLines(child, source);
    else child.stdin!.end(); // the phase stream is generated inside the agent
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.stopFeed();
    if (this.stopping || child !== this.child) return;
    // Whatever the agent started in its group goes with it.
    if (child.pid !== undefined) {
      killGroupNow(child.pid);
      if (groupMembers(child.pid).length === 0) this.options.groups.forget(child.pid);
    }
    const up = Date.now() - this.startedAt;
    const delay = this.backoff.next(up);
    this.restartsValue++;
    this.options.say(
      `agent ${this.n}: exited (${signal ?? `code ${code}`}) after ${seconds(up)}; restarting it in ${seconds(delay)}; its log: ${rel(this.options.layout.root, this.logFile)}`,
    );
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.start().then(
        () => this.options.say(`agent ${this.n}: restarted (pid ${this.child?.pid})`),
        (err: unknown) => {
          this.options.say(`agent ${this.n}: could not restart: ${(err as Error).message}`);
          this.exited(child, null, null);
        },
      );
    }, delay);
  }

  /** SIGTERM (the agent flushes its ledger and closes its socket with 1001), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopFeed();
    const pid = this.child?.pid;
    if (pid !== undefined) {
      const { killed, survivors } = await stopGroup(pid);
      if (killed) this.options.say(`  agent ${this.n} ignored SIGTERM for 5 s and was killed`);
      if (survivors.length === 0) this.options.groups.forget(pid);
    }
    await new Promise<void>((r) => this.log.end(r));
  }

  killNow(): void {
    this.stopping = true;
    if (this.child?.pid !== undefined) killGroupNow(this.child.pid);
  }
}

/** Writes the feed's lines round and round, as fast as the agent takes them (its queue pauses the pipe). */
function feedLines(child: ChildProcess, feed: Extract<DemoSource, { kind: "text" }>): () => void {
  let stopped = false;
  let line = feed.firstLine;
  const stdin = child.stdin!;
  stdin.on("error", () => {
    stopped = true;
  });
  const pump = (): void => {
    while (!stopped) {
      if (!stdin.write(feed.lines[line++ % feed.lines.length]! + "\n")) {
        stdin.once("drain", pump);
        return;
      }
    }
  };
  pump();
  return () => {
    if (stopped) return;
    stopped = true;
    stdin.end();
  };
}
