/**
 * One simulation run: edge up (or given), N agents enrolled, connected over the ramp, driven through
 * the phases (steady; or normal → burst → recovery), stopped, and the samples cut into the report.
 */
import { loadavg } from "node:os";
import { LIMITS } from "../../shared/protocol/index.js";
import { openEdge, type EdgeUnderTest } from "./edge-control.js";
import { enrollAgents, type EdgeAccess } from "./enrollment.js";
import { phaseRow, type Phase, type PhaseRow } from "./phase-report.js";
import { PoolHost } from "./pool-host.js";
import { ProcSampler } from "./proc-sampler.js";
import type { RunSummary } from "./report-table.js";
import { saturationReasons } from "./saturation.js";
import type { AgentRates } from "./sim-agent.js";
import { threadsFor, type SimOptions } from "./sim-options.js";

/**
 * Seconds after the ramp before the measured phase: every agent's first summary changes the field's
 * membership, which the edge broadcasts to everyone at once, so the first second is a storm of its own.
 */
const SETTLE_S = 5;
/** Connects in flight at once when there is no ramp. */
const CONNECT_CONCURRENCY = 32;

export interface SimRun extends RunSummary {
  readonly options: { readonly rate: number; readonly records: number; readonly batch: number; readonly durationS: number; readonly rampS: number; readonly tokenHz: number };
  readonly burst: SimOptions["burst"];
  readonly startedAt: string;
}

async function adminGet<T>(access: EdgeAccess, path: string): Promise<T | undefined> {
  try {
    const q = access.fleet === undefined ? "" : `?fleet=${encodeURIComponent(access.fleet)}`;
    const res = await fetch(`${access.url}${path}${q}`, { headers: { Authorization: `Bearer ${access.adminToken}` }, signal: AbortSignal.timeout(30_000) });
    return res.status === 200 ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

interface FleetView {
  readonly config: { readonly summaryHz: number; readonly fieldHz: number };
  readonly log: { readonly size: number };
}

/** An agent's send rates stay within what the edge allows one connection (docs/protocol.md). */
export function withinLimits(rates: AgentRates, factor: number, summaryHz: number): boolean {
  const messagesPerS = factor * (rates.rate + (rates.records > 0 ? rates.records / rates.batch : 0)) + (rates.pingS > 0 ? 1 / rates.pingS : 0);
  return factor * rates.rate <= summaryHz && messagesPerS <= LIMITS.connectionMessagesPerSecond;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

/** Runs one simulation of `agents` agents. `say` gets progress lines (stderr). */
export async function runSimulation(options: SimOptions, agents: number, say: (line: string) => void, edgeGiven?: EdgeUnderTest): Promise<SimRun> {
  const edge = edgeGiven ?? (await openEdge(options));
  let host: PoolHost | undefined;
  const sampler = new ProcSampler(() => edge.pids());
  try {
    say(`edge ${edge.access.url}${edge.pids().length > 0 ? ` (workerd pid ${edge.pids().join(", ")})` : ""}; enrolling ${agents} agents`);
    const fleet = await adminGet<FleetView>(edge.access, "/v1/fleet");
    const summaryHz = fleet?.config.summaryHz ?? 2;
    const fieldIntervalMs = 1000 / (fleet?.config.fieldHz ?? 2);
    const enrolled = await enrollAgents(edge.access, agents, say);
    say(`enrolled ${enrolled.identities.length} in ${(enrolled.ms / 1000).toFixed(1)} s; connecting over ${options.rampS} s`);
    const rates: AgentRates = { rate: options.rate, records: options.records, batch: options.batch, pingS: options.pingS, tokenHz: options.tokenHz };
    const threads = threadsFor(options, enrolled.identities.length);
    host = new PoolHost(enrolled.identities, threads);
    sampler.start();
    const loadStart = loadavg()[0]!;
    const t0 = Date.now() + 1000;
    const ramp = await host.start(rates, t0, options.rampS * 1000, CONNECT_CONCURRENCY);
    const rampEnd = Date.now();
    say(`${ramp.connected} connected, ${ramp.failed} failed in ${((rampEnd - t0) / 1000).toFixed(1)} s; measuring`);
    const measured = rampEnd + SETTLE_S * 1000;
    const phases: Phase[] = [
      { name: "ramp", from: t0, to: rampEnd },
      { name: "settle", from: rampEnd, to: measured },
    ];
    const burst = options.burst;
    let bursting = new Set<number>();
    if (burst === undefined) {
      phases.push({ name: "steady", from: measured, to: measured + options.durationS * 1000 });
    } else {
      const burstStart = measured + options.durationS * 1000;
      const burstEnd = burstStart + burst.seconds * 1000;
      phases.push({ name: "normal", from: measured, to: burstStart }, { name: "burst", from: burstStart, to: burstEnd }, { name: "recovery", from: burstEnd, to: burstEnd + burst.recoverySeconds * 1000 });
      // Every k-th agent bursts, so the share is spread over threads and the ramp order.
      const indices = enrolled.identities.map((id) => id.index);
      const count = Math.round(burst.share * indices.length);
      bursting = new Set(indices.filter((_, i) => Math.floor(((i + 1) * count) / indices.length) > Math.floor((i * count) / indices.length)));
      host.burst({ start: burstStart, end: burstEnd, factor: burst.factor }, [...bursting]);
    }
    const end = phases[phases.length - 1]!.to;
    for (const phase of phases.slice(1)) {
      await sleepUntil(phase.to);
      say(`${phase.name} phase over`);
    }
    await sleepUntil(end);
    const loadEnd = loadavg()[0]!;
    const result = await host.stop();
    host = undefined;
    sampler.stop();
    const after = await adminGet<FleetView>(edge.access, "/v1/fleet");
    const normalOk = withinLimits(rates, 1, summaryHz);
    const burstOk = burst === undefined || withinLimits(rates, burst.factor, summaryHz);
    const wellBehaved = (index: number) => normalOk && (!bursting.has(index) || burstOk);
    const rows: PhaseRow[] = phases.map((phase) => phaseRow(result.samples, sampler.samples, phase, wellBehaved));
    const started = ramp.connected;
    return {
      agents,
      rampS: options.rampS,
      enrolled: enrolled.identities.length,
      enrollSeconds: enrolled.ms / 1000,
      enrollFailures: enrolled.failures,
      started,
      connectedAtEnd: result.connectedAtEnd.size,
      rows,
      loadAverage: [loadStart, loadEnd],
      threads,
      simLoad: result.loads,
      logSize: after?.log.size ?? null,
      saturated: saturationReasons(rows, started, agents, fieldIntervalMs),
      options: { rate: options.rate, records: options.records, batch: options.batch, durationS: options.durationS, rampS: options.rampS, tokenHz: options.tokenHz },
      burst,
      startedAt: new Date(t0).toISOString(),
    };
  } finally {
    sampler.stop();
    await host?.kill();
    if (edgeGiven === undefined) await edge.stop();
  }
}
