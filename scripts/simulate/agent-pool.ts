/**
 * The agents of one worker thread: connects them on the ramp's schedule, lets them run, applies the
 * burst window, stops them and hands back the raw samples plus the thread's own load (event-loop
 * utilisation and delay), so the report can show the simulator was not the bottleneck.
 * Runs in a worker thread (see pool-host.ts); the messages below are its whole interface.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { SimAgent, type AgentRates, type BurstWindow, type SimIdentity } from "./sim-agent.js";
import { emptySamples, type RawSamples } from "./sim-recorder.js";

export interface PoolStart {
  readonly type: "start";
  readonly identities: readonly SimIdentity[];
  readonly rates: AgentRates;
  /** Epoch ms at which agent 0 (of the whole run) connects. */
  readonly t0: number;
  readonly rampMs: number;
  /** Agents in the whole run (the ramp spreads global indices over rampMs). */
  readonly totalAgents: number;
  /** Connects in flight at once in this thread when rampMs is 0. */
  readonly concurrency: number;
}

export interface PoolBurst {
  readonly type: "burst";
  readonly window: BurstWindow;
  /** Global indices of the agents that burst. */
  readonly indices: readonly number[];
}

export interface PoolStop {
  readonly type: "stop";
}

export type PoolCommand = PoolStart | PoolBurst | PoolStop;

export interface PoolLoad {
  /** Event-loop utilisation of this thread from the end of the ramp to stop, 0–1. */
  readonly utilization: number;
  /** Event-loop delay p99 / max, ms. */
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
}

export type PoolReport =
  | { readonly type: "ramped"; readonly connected: number; readonly failed: number }
  | { readonly type: "result"; readonly samples: RawSamples; readonly connectedAtEnd: readonly number[]; readonly load: PoolLoad };

export class AgentPool {
  readonly #samples = emptySamples();
  #agents: SimAgent[] = [];
  #indices: number[] = [];
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  #elu = performance.eventLoopUtilization();

  async start(command: PoolStart): Promise<{ connected: number; failed: number }> {
    this.#indices = command.identities.map((id) => id.index);
    this.#agents = command.identities.map((id) => new SimAgent(id, command.rates, this.#samples));
    let connected = 0;
    const one = async (i: number): Promise<void> => {
      const ok = await this.#agents[i]!.start();
      if (ok) connected++;
    };
    if (command.rampMs > 0) {
      const spacing = command.rampMs / command.totalAgents;
      await Promise.all(
        command.identities.map(async (id, i) => {
          const wait = command.t0 + id.index * spacing - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await one(i);
        }),
      );
    } else {
      let next = 0;
      const wait = command.t0 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const lane = async () => {
        while (next < this.#agents.length) await one(next++);
      };
      await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, lane));
    }
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
    return { connected, failed: this.#agents.length - connected };
  }

  burst(command: PoolBurst): void {
    const bursting = new Set(command.indices);
    this.#agents.forEach((agent, i) => agent.setBurst(bursting.has(this.#indices[i]!) ? command.window : undefined));
  }

  /** Notes who is still connected, closes every socket, and returns the samples. */
  async stop(): Promise<Extract<PoolReport, { type: "result" }>> {
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#delay.disable();
    const connectedAtEnd = this.#agents.flatMap((agent, i) => (agent.connected ? [this.#indices[i]!] : []));
    for (const agent of this.#agents) agent.stop();
    // Give close handshakes a moment, then cut whatever is left.
    await new Promise((r) => setTimeout(r, 1500));
    for (const agent of this.#agents) agent.terminate();
    const load: PoolLoad = {
      utilization: elu.utilization,
      delayP99Ms: this.#delay.percentile(99) / 1e6,
      delayMaxMs: this.#delay.max / 1e6,
    };
    return { type: "result", samples: this.#samples, connectedAtEnd, load };
  }
}

/** Worker-thread entry: drives one AgentPool from the host's commands. */
export function servePool(): void {
  const port = parentPort;
  if (port === null) throw new Error("agent-pool: not in a worker thread");
  const pool = new AgentPool();
  port.on("message", (command: PoolCommand) => {
    void (async () => {
      switch (command.type) {
        case "start": {
          const { connected, failed } = await pool.start(command);
          port.postMessage({ type: "ramped", connected, failed } satisfies PoolReport);
          return;
        }
        case "burst":
          pool.burst(command);
          return;
        case "stop": {
          port.postMessage(await pool.stop());
          port.close();
          return;
        }
      }
    })();
  });
}
