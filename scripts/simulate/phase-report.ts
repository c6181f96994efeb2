/** Cuts a run's raw samples into phases and computes each phase's figures. Pure. */
import type { ProcSample } from "./proc-sampler.js";
import type { RawSamples } from "./sim-recorder.js";
import { countIn, pairValuesIn, spread, sum, tally, type Spread } from "./stats.js";

export interface Phase {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

export interface PhaseRow {
  readonly phase: string;
  readonly seconds: number;
  /** Agents with an open, welcomed socket at the end of the phase. */
  readonly connectedAtEnd: number;
  /** Welcomes per second over the phase (meaningful for the ramp). */
  readonly connectsPerS: number;
  /** Connect (JWT + upgrade + hello → welcome) duration. */
  readonly connectMs: Spread;
  readonly summariesSentPerS: number;
  /** Sent minus those refused (`error` with ref summary) minus messages dropped unread (`rate_limited` without ref). */
  readonly summariesAcceptedPerS: number;
  /** Summary send → receipt of the first field broadcast at or after the send (field.t ≥ send time). */
  readonly fieldE2eMs: Spread;
  /** field.t (edge clock at broadcast) → receipt. */
  readonly fieldBroadcastMs: Spread;
  /**
   * Median `n` (agents in the field) of the fields received in the phase's last 3 s. (Over the whole
   * phase it would be skewed: every change of membership is broadcast to everyone at once, so a
   * ramp's joins flood the samples with small n.)
   */
  readonly fieldNMedian: number | null;
  readonly recordsSentPerS: number;
  readonly recordsAckedPerS: number;
  readonly ackMs: Spread;
  readonly pingMs: Spread;
  /** `error` messages by code (`code(ref)` when the edge named the refused message). */
  readonly errors: Record<string, number>;
  /** Socket closes we did not ask for, by close code. */
  readonly closes: Record<string, number>;
  /** Refused or failed connects, by code. */
  readonly connectFailures: Record<string, number>;
  /** `standing` messages that quarantined an agent. */
  readonly quarantines: number;
  /** Agents whose socket closed in this phase, and how many of them were well-behaved. */
  readonly disconnected: number;
  readonly disconnectedWellBehaved: number;
  /** Edge CPU, % of one core, and its largest resident set, MB (null when not sampled). */
  readonly edgeCpuPct: number | null;
  readonly edgeRssMaxMb: number | null;
}

function perSecond(n: number, phase: Phase): number {
  const s = (phase.to - phase.from) / 1000;
  return s > 0 ? n / s : 0;
}

/** Agents connected at `at`: welcomes before it minus unrequested closes before it. */
export function connectedAt(samples: RawSamples, at: number): number {
  let welcomes = 0;
  for (let i = 0; i < samples.connects.length; i += 2) if (samples.connects[i]! <= at) welcomes++;
  return welcomes - samples.closes.filter(([t]) => t <= at).length;
}

function edgeLoad(proc: readonly ProcSample[], phase: Phase): { cpu: number | null; rss: number | null } {
  // Readings inside the phase; each reading's CPU delta covers the interval since the one before.
  const inside = proc.filter((s) => s.t > phase.from && s.t <= phase.to + 500);
  if (inside.length === 0 || inside.every((s) => s.pids.length === 0)) return { cpu: null, rss: null };
  const first = proc.indexOf(inside[0]!);
  const start = first > 0 ? proc[first - 1]!.t : inside[0]!.t;
  const span = (inside[inside.length - 1]!.t - start) / 1000;
  const cpu = span > 0 ? (100 * sum(inside.map((s) => s.cpuDeltaS))) / span : null;
  const rss = Math.max(...inside.map((s) => s.rssBytes)) / (1024 * 1024);
  return { cpu, rss };
}

export function phaseRow(samples: RawSamples, proc: readonly ProcSample[], phase: Phase, wellBehaved: (index: number) => boolean): PhaseRow {
  const { from, to } = phase;
  const errors: Record<string, number> = {};
  let summaryRefusals = 0;
  let dropped = 0;
  for (const [t, code, ref] of samples.errors) {
    if (t < from || t >= to) continue;
    tally(errors, ref === "" ? code : `${code}(${ref})`);
    if (ref === "summary") summaryRefusals++;
    if (code === "rate_limited" && ref === "") dropped++;
  }
  const closes: Record<string, number> = {};
  let disconnected = 0;
  let disconnectedWellBehaved = 0;
  for (const [t, code, index] of samples.closes) {
    if (t < from || t >= to) continue;
    tally(closes, String(code));
    disconnected++;
    if (wellBehaved(index)) disconnectedWellBehaved++;
  }
  const connectFailures: Record<string, number> = {};
  for (const [t, code] of samples.connectFailures) if (t >= from && t < to) tally(connectFailures, code);
  const sent = countIn(samples.summariesSent, from, to);
  const load = edgeLoad(proc, phase);
  const fieldN = pairValuesIn(samples.fieldN, Math.max(from, to - 3000), to).sort((a, b) => a - b);
  return {
    phase: phase.name,
    seconds: (to - from) / 1000,
    connectedAtEnd: connectedAt(samples, to),
    connectsPerS: perSecond(pairValuesIn(samples.connects, from, to).length, phase),
    connectMs: spread(pairValuesIn(samples.connects, from, to)),
    summariesSentPerS: perSecond(sent, phase),
    summariesAcceptedPerS: perSecond(Math.max(0, sent - summaryRefusals - dropped), phase),
    fieldE2eMs: spread(pairValuesIn(samples.fieldE2e, from, to)),
    fieldBroadcastMs: spread(pairValuesIn(samples.fieldBroadcast, from, to)),
    fieldNMedian: fieldN.length === 0 ? null : fieldN[Math.floor(fieldN.length / 2)]!,
    recordsSentPerS: perSecond(sum(pairValuesIn(samples.recordsSent, from, to)), phase),
    recordsAckedPerS: perSecond(sum(pairValuesIn(samples.recordsAcked, from, to)), phase),
    ackMs: spread(pairValuesIn(samples.ackLatency, from, to)),
    pingMs: spread(pairValuesIn(samples.pings, from, to)),
    errors,
    closes,
    connectFailures,
    quarantines: samples.quarantines.filter(([t]) => t >= from && t < to).length,
    disconnected,
    disconnectedWellBehaved,
    edgeCpuPct: load.cpu,
    edgeRssMaxMb: load.rss,
  };
}

/** Errors of every kind in a row: error messages, closes, connect failures, quarantines. */
export function problemCount(row: PhaseRow): number {
  return sum(Object.values(row.errors)) + sum(Object.values(row.closes)) + sum(Object.values(row.connectFailures)) + row.quarantines;
}
