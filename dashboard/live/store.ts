/**
 * The live fleet in the browser. Agents are plain mutable records in maps (keyed by the socket's
 * compact index `i` and by id) so a phase frame for 1,000 agents updates in place; views subscribe
 * to a version signal instead of one signal per agent.
 */
import { signal } from "@preact/signals";
import type { HistorySample, LiveAgent, LiveFleet, LiveMessage } from "../../shared/dashboard/live-messages.js";
import type { PhaseFrame } from "../../shared/dashboard/phase-frame.js";
import { HISTORY_WINDOW_MS, PhaseHistory } from "./phase-history.js";

export type DisplayStatus = "online" | "offline" | "quarantined" | "pending" | "revoked";

export type AgentState = { -readonly [K in keyof LiveAgent]: LiveAgent[K] };

export const R_WINDOW_MS = 10 * 60_000;

export function displayStatus(agent: LiveAgent): DisplayStatus {
  if (agent.status === "revoked") return "revoked";
  if (agent.status === "pending") return "pending";
  if (agent.quarantine !== null) return "quarantined";
  return agent.online ? "online" : "offline";
}

/** θ now, extrapolated by ω from the summary time; the agent's θ unchanged when it is not running. */
export function thetaAt(agent: LiveAgent, now: number): number | null {
  if (agent.theta === null) return null;
  if (agent.omega === null || agent.t === null || !agent.online) return wrapAngle(agent.theta);
  // Bound the extrapolation: an agent silent for longer than this is drawn where it was last seen.
  const dt = Math.min(Math.max(now - agent.t, 0), 10_000) / 1000;
  return wrapAngle(agent.theta + agent.omega * dt);
}

export function wrapAngle(theta: number): number {
  const twoPi = 2 * Math.PI;
  const x = theta % twoPi;
  return x < 0 ? x + twoPi : x;
}

export class FleetStore {
  readonly byI = new Map<number, AgentState>();
  readonly byId = new Map<string, AgentState>();
  readonly #history = new Map<string, PhaseHistory>();
  /** (ms, r, ψ) over the last 10 minutes, oldest first. */
  rHistory: HistorySample[] = [];

  readonly fleet = signal<LiveFleet | null>(null);
  /** Bumped whenever any agent changed; views read the maps after reading this. */
  readonly agentsVersion = signal(0);
  readonly rVersion = signal(0);
  /** Time of the last message from the edge (ms), for staleness. */
  lastMessageAt = 0;

  history(id: string): PhaseHistory | undefined {
    return this.#history.get(id);
  }

  reset(): void {
    this.byI.clear();
    this.byId.clear();
    this.rHistory = [];
    this.fleet.value = null;
    this.agentsVersion.value++;
    this.rVersion.value++;
  }

  apply(message: LiveMessage): void {
    this.lastMessageAt = Date.now();
    switch (message.type) {
      case "snapshot": {
        this.byI.clear();
        this.byId.clear();
        for (const agent of message.agents) this.#upsert(agent);
        this.rHistory = message.history.slice();
        this.fleet.value = message.fleet;
        this.#pruneHistory(message.at);
        this.agentsVersion.value++;
        this.rVersion.value++;
        return;
      }
      case "agents": {
        // Removals first: an index freed here may be reused by an upsert of the same message.
        for (const i of message.remove) {
          const agent = this.byI.get(i);
          if (agent === undefined) continue;
          this.byI.delete(i);
          if (this.byId.get(agent.id) === agent) this.byId.delete(agent.id);
        }
        for (const agent of message.upsert) this.#upsert(agent);
        this.agentsVersion.value++;
        return;
      }
      case "fleet": {
        this.fleet.value = message.fleet;
        const last = this.rHistory[this.rHistory.length - 1];
        if (last === undefined || message.sample[0] > last[0]) this.rHistory.push(message.sample);
        this.#pruneHistory(message.at);
        this.rVersion.value++;
        return;
      }
    }
  }

  applyFrame(frame: PhaseFrame): void {
    this.lastMessageAt = Date.now();
    for (const entry of frame.agents) {
      const agent = this.byI.get(entry.i);
      if (agent === undefined) continue;
      agent.theta = entry.theta;
      agent.omega = entry.omega;
      agent.coherence = entry.coherence;
      agent.t = entry.t;
      this.#record(agent);
    }
    if (frame.agents.length > 0) this.agentsVersion.value++;
  }

  #upsert(live: LiveAgent): void {
    const existing = this.byI.get(live.i);
    if (existing !== undefined && existing.id !== live.id && this.byId.get(existing.id) === existing) this.byId.delete(existing.id);
    // The edge's θ is unwrapped (any real); the page shows and charts it in [0, 2π).
    const agent: AgentState = { ...live, theta: live.theta === null ? null : wrapAngle(live.theta) };
    this.byI.set(agent.i, agent);
    this.byId.set(agent.id, agent);
    this.#record(agent);
  }

  #record(agent: AgentState): void {
    if (agent.theta === null || agent.t === null) return;
    let history = this.#history.get(agent.id);
    if (history === undefined) {
      history = new PhaseHistory();
      this.#history.set(agent.id, history);
    }
    history.push(agent.t, agent.theta, agent.coherence ?? 0);
  }

  #pruneHistory(now: number): void {
    const since = now - R_WINDOW_MS;
    let drop = 0;
    while (drop < this.rHistory.length && this.rHistory[drop]![0] < since) drop++;
    if (drop > 0) this.rHistory.splice(0, drop);
  }
}

export const store = new FleetStore();
export { HISTORY_WINDOW_MS };
