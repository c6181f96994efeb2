/**
 * One agent of the soak across all its lives: the same data dir, one real `becomingone-agent run`
 * process (built, from dist/) at a time, started again after every kill. Keeps what its processes
 * said that a healthy run never says (inconsistency, conflicts, halted sending, crashes).
 */
import { join } from "node:path";
import { agentHealth, startAgentProcess, type AgentProcess } from "../../test/e2e/support/agentProcess.js";

/** Error-level lines are what the agent says when something is wrong (an inconsistent edge log, a refused record, halted sending); faults alone log warnings. */
const ERROR_LINE = /"level":"error"/;

export interface AgentSlotOptions {
  readonly index: number;
  readonly dataDir: string;
  /** The agents' edge: the link proxy. */
  readonly edgeUrl: string;
  readonly token: string;
  readonly config: Record<string, unknown>;
}

export type Health = Awaited<ReturnType<typeof agentHealth>>;

export class AgentSlot {
  readonly index: number;
  readonly dataDir: string;
  readonly ledgerDir: string;
  #options: AgentSlotOptions;
  #current: AgentProcess | undefined;
  #api: string | undefined;
  agentId: string | undefined;
  /** Processes started, and how many of them were killed with SIGKILL. */
  starts = 0;
  kills = 0;
  /** Processes that ended other than by our signal (or a clean stop that did not exit 0). */
  readonly badExits: string[] = [];
  /** Error-level log lines of all its processes, counted by message. */
  readonly errorLines = new Map<string, number>();

  constructor(options: AgentSlotOptions) {
    this.#options = options;
    this.index = options.index;
    this.dataDir = options.dataDir;
    this.ledgerDir = join(options.dataDir, "ledger");
  }

  get running(): boolean {
    return this.#current !== undefined;
  }

  /** Starts a new process (the previous one must have ended). `stream: false` feeds no input. */
  start(stream = true): AgentProcess {
    if (this.#current !== undefined) throw new Error(`agent ${this.index} is already running`);
    this.starts++;
    this.#api = undefined;
    const proc = startAgentProcess({
      dataDir: this.dataDir,
      edgeUrl: this.#options.edgeUrl,
      // Every start carries the token: a kill during the first enrollment must not strand the agent (ignored once enrolled).
      token: this.#options.token,
      config: this.#options.config,
      stream,
      built: true,
    });
    this.#current = proc;
    void proc.exited.then(({ code, signal }) => {
      this.#scan(proc.logs());
      // Our kill -9 and a SIGTERM the agent did not handle are ours; anything else but exit 0 is the agent failing.
      if (signal !== "SIGKILL" && code !== 0) this.badExits.push(`process ${this.starts} exited ${code ?? signal}: ${proc.logs().slice(-600)}`);
    });
    return proc;
  }

  /** The running process's local API once it is ready (throws if it exited first). */
  async ready(): Promise<string> {
    const proc = this.#require();
    const { api, agentId } = await proc.ready;
    this.agentId ??= agentId;
    if (agentId !== this.agentId) throw new Error(`agent ${this.index} came back as ${agentId}, was ${this.agentId}`);
    this.#api = api;
    return api;
  }

  async health(): Promise<Health> {
    if (this.#api === undefined) throw new Error(`agent ${this.index} is not ready`);
    return agentHealth(this.#api);
  }

  get api(): string | undefined {
    return this.#api;
  }

  /** What the link says about itself (for a problem message): acknowledged, in flight, the edge's last error. */
  async linkDiagnosis(): Promise<string> {
    if (this.#api === undefined) return "not running";
    try {
      const res = await fetch(`${this.#api}/health`, { signal: AbortSignal.timeout(5000) });
      const h = (await res.json()) as { link?: string; ledger?: { durable?: number; acked?: number }; edge?: Record<string, unknown> };
      const e = h.edge ?? {};
      return `link ${h.link}, durable ${h.ledger?.durable}, acked ${h.ledger?.acked}, in flight ${e.in_flight}, records sent ${e.records_sent}, sessions ${e.sessions}, last edge error ${JSON.stringify(e.last_error ?? null)}`;
    } catch (err) {
      return `no health: ${(err as Error).message}`;
    }
  }

  /** kill -9 and wait for the exit; true if it was our SIGKILL that ended it. */
  async kill9(): Promise<boolean> {
    const proc = this.#require();
    const exit = await proc.kill9();
    this.#current = undefined;
    this.#api = undefined;
    this.kills++;
    return exit.signal === "SIGKILL";
  }

  /** SIGTERM and wait; true on a clean exit 0. */
  async stop(): Promise<boolean> {
    const proc = this.#current;
    if (proc === undefined) return true;
    const exit = await proc.stop();
    this.#current = undefined;
    this.#api = undefined;
    return exit.code === 0;
  }

  #require(): AgentProcess {
    if (this.#current === undefined) throw new Error(`agent ${this.index} is not running`);
    return this.#current;
  }

  #scan(logs: string): void {
    for (const line of logs.split("\n")) {
      if (!ERROR_LINE.test(line)) continue;
      let msg = line.slice(0, 200);
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? msg);
      } catch {
        // not JSON: keep the raw start of the line
      }
      this.errorLines.set(msg, (this.errorLines.get(msg) ?? 0) + 1);
    }
  }
}
