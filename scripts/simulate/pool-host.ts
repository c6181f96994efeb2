/**
 * Spreads the agents over worker threads (one event loop cannot drive 1,000 agents' JSON, signatures
 * and timers without becoming the bottleneck on this machine; see docs/scaling.md) and gathers what
 * they measured. Each thread runs pool-worker.ts through tsx's loader, registered inside the thread.
 */
import { Worker } from "node:worker_threads";
import type { PoolBurst, PoolCommand, PoolLoad, PoolReport, PoolStart } from "./agent-pool.js";
import type { AgentRates, BurstWindow, SimIdentity } from "./sim-agent.js";
import { emptySamples, mergeSamples, type RawSamples } from "./sim-recorder.js";

const ENTRY = new URL("./pool-worker.ts", import.meta.url).href;
/** Node 20 does not pass a loader registered with module.register on to worker threads: register it there. */
const BOOT = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); })`;

export interface PoolResult {
  readonly samples: RawSamples;
  readonly connectedAtEnd: ReadonlySet<number>;
  readonly loads: readonly PoolLoad[];
}

export interface RampOutcome {
  readonly connected: number;
  readonly failed: number;
}

export class PoolHost {
  readonly #workers: Worker[];
  readonly #identities: SimIdentity[][];

  constructor(identities: readonly SimIdentity[], threads: number) {
    const n = Math.max(1, Math.min(threads, identities.length));
    this.#identities = Array.from({ length: n }, () => []);
    identities.forEach((id, i) => this.#identities[i % n]!.push(id));
    this.#workers = this.#identities.map(() => new Worker(BOOT, { eval: true }));
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Connects every agent (agent i at t0 + i·ramp/N, or as fast as `concurrency` allows); resolves when all settled. */
  async start(rates: AgentRates, t0: number, rampMs: number, concurrency: number): Promise<RampOutcome> {
    const total = this.#identities.reduce((sum, ids) => sum + ids.length, 0);
    const outcomes = await Promise.all(
      this.#workers.map((worker, i) => {
        const command: PoolStart = {
          type: "start",
          identities: this.#identities[i]!,
          rates,
          t0,
          rampMs,
          totalAgents: total,
          concurrency: Math.max(1, Math.ceil(concurrency / this.#workers.length)),
        };
        return this.#ask(worker, command, "ramped");
      }),
    );
    return outcomes.reduce((a, b) => ({ connected: a.connected + b.connected, failed: a.failed + b.failed }), { connected: 0, failed: 0 });
  }

  burst(window: BurstWindow, indices: readonly number[]): void {
    const command: PoolBurst = { type: "burst", window, indices };
    for (const worker of this.#workers) worker.postMessage(command);
  }

  async stop(): Promise<PoolResult> {
    const results = await Promise.all(this.#workers.map((worker) => this.#ask(worker, { type: "stop" }, "result")));
    const samples = emptySamples();
    const connectedAtEnd = new Set<number>();
    for (const result of results) {
      mergeSamples(samples, result.samples);
      for (const index of result.connectedAtEnd) connectedAtEnd.add(index);
    }
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
    return { samples, connectedAtEnd, loads: results.map((r) => r.load) };
  }

  /** Ends the threads at once (abort path). */
  async kill(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #ask<T extends PoolReport["type"]>(worker: Worker, command: PoolCommand, answer: T): Promise<Extract<PoolReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (report: PoolReport) => {
        if (report.type !== answer) return;
        cleanup();
        resolve(report as Extract<PoolReport, { type: T }>);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`agent thread exited (${code}) before answering ${command.type}`));
      };
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage(command);
    });
  }
}
