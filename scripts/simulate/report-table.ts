/** The markdown table of one or more runs. Pure. */
import type { PhaseRow } from "./phase-report.js";
import type { Spread } from "./stats.js";

export interface RunSummary {
  readonly agents: number;
  /** Seconds the connects were spread over (0: as fast as the connect concurrency allows). */
  readonly rampS: number;
  readonly enrolled: number;
  readonly enrollSeconds: number;
  readonly enrollFailures: Record<string, number>;
  /** Agents welcomed during the ramp. */
  readonly started: number;
  /** Agents still connected when the run ended. */
  readonly connectedAtEnd: number;
  readonly rows: readonly PhaseRow[];
  /** 1-minute load average at the start and end of the measured phases. */
  readonly loadAverage: readonly [number, number];
  readonly threads: number;
  /** Per agent thread: event-loop utilisation (0–1) and delay p99, ms. */
  readonly simLoad: readonly { utilization: number; delayP99Ms: number; delayMaxMs: number }[];
  /** Global log size at the end (GET /v1/fleet): records acked, plus two key entries per agent enrolled (enrolled, approved). */
  readonly logSize: number | null;
  /** Why this run counts as saturated (empty: it held). */
  readonly saturated: readonly string[];
}

const ms = (v: number | null): string => (v === null ? "–" : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : String(Math.round(v)));
const trio = (s: Spread): string => (s.count === 0 ? "–" : `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`);
const rate = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

function counts(prefix: string, record: Record<string, number>): string[] {
  return Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${prefix}${code} ×${n}`);
}

/** Every problem in a row, e.g. "rate_limited(summary) ×12, close 1008 ×3". */
export function problems(row: PhaseRow): string {
  const parts = [
    ...counts("", row.errors),
    ...counts("close ", row.closes),
    ...counts("connect ", row.connectFailures),
    ...(row.quarantines > 0 ? [`quarantined ×${row.quarantines}`] : []),
  ];
  return parts.length === 0 ? "0" : parts.join(", ");
}

export const TABLE_HEADER = [
  "| agents | phase (s) | connected / started | connects/s | summaries/s sent / accepted | field n | field e2e ms p50 / p99 / max | field bcast→rx ms p50 / p99 / max | records/s acked | ack ms p50 / p99 / max | ping p99 ms | errors | edge CPU % | edge RSS MB | load |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
].join("\n");

export function tableRows(run: RunSummary): string[] {
  return run.rows.map((row) => {
    const isRamp = row.phase === "ramp";
    return [
      "",
      String(run.agents),
      `${row.phase} (${row.seconds.toFixed(0)})`,
      `${row.connectedAtEnd} / ${run.started}`,
      isRamp ? rate(row.connectsPerS) : "",
      `${rate(row.summariesSentPerS)} / ${rate(row.summariesAcceptedPerS)}`,
      row.fieldNMedian === null ? "–" : String(row.fieldNMedian),
      trio(row.fieldE2eMs),
      trio(row.fieldBroadcastMs),
      rate(row.recordsAckedPerS),
      trio(row.ackMs),
      ms(row.pingMs.p99),
      problems(row) + (row.disconnected > 0 ? `; ${row.disconnected} disconnected (${row.disconnectedWellBehaved} well-behaved)` : ""),
      row.edgeCpuPct === null ? "–" : row.edgeCpuPct.toFixed(0),
      row.edgeRssMaxMb === null ? "–" : row.edgeRssMaxMb.toFixed(0),
      `${run.loadAverage[0].toFixed(2)}→${run.loadAverage[1].toFixed(2)}`,
      "",
    ].join(" | ").trim();
  });
}

/** One line under the table per run: enrollment, the simulator's own load, end state. */
export function runNote(run: RunSummary): string {
  const sim = run.simLoad.map((l) => `${(l.utilization * 100).toFixed(0)} % busy, loop delay p99 ${l.delayP99Ms.toFixed(0)} ms`).join("; ");
  const enrollFailures = counts("", run.enrollFailures);
  return (
    `- ${run.agents} agents: enrolled ${run.enrolled} in ${run.enrollSeconds.toFixed(1)} s${enrollFailures.length > 0 ? ` (refused: ${enrollFailures.join(", ")})` : ""}; ` +
    `connects ${run.rampS > 0 ? `spread over ${run.rampS} s` : "as fast as 32 in flight allow"}; ` +
    `${run.connectedAtEnd} of ${run.started} still connected at the end; global log size ${run.logSize ?? "?"}; ` +
    `simulator: ${run.threads} thread(s): ${sim}; ` +
    (run.saturated.length === 0 ? "**holds**" : `**saturated**: ${run.saturated.join("; ")}`)
  );
}

export function renderTable(runs: readonly RunSummary[]): string {
  return [TABLE_HEADER, ...runs.flatMap(tableRows), "", ...runs.map(runNote)].join("\n");
}
