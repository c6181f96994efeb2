/** When a run counts as saturated (the sweep stops at the first such N). Pure. */
import { problemCount, type PhaseRow } from "./phase-report.js";

/** p99 limits, ms. The end-to-end field time includes up to one broadcast interval of waiting by design. */
export const SATURATION_P99_MS = 250;

/** Reasons the measured rows show saturation; empty when the run held. */
export function saturationReasons(rows: readonly PhaseRow[], started: number, agents: number, fieldIntervalMs: number): string[] {
  const reasons: string[] = [];
  if (started < agents) reasons.push(`${agents - started} of ${agents} agents never connected`);
  for (const row of rows) {
    if (row.phase === "ramp" || row.phase === "settle") {
      if (problemCount(row) > 0) reasons.push(`${row.phase}: ${problemCount(row)} errors`);
      if (row.disconnected > 0) reasons.push(`${row.phase}: ${row.disconnected} disconnected`);
      continue;
    }
    const p = `${row.phase}: `;
    if ((row.fieldBroadcastMs.p99 ?? 0) > SATURATION_P99_MS) reasons.push(`${p}field bcast→rx p99 ${Math.round(row.fieldBroadcastMs.p99!)} ms`);
    if ((row.fieldE2eMs.p99 ?? 0) > SATURATION_P99_MS + fieldIntervalMs) reasons.push(`${p}field e2e p99 ${Math.round(row.fieldE2eMs.p99!)} ms > ${SATURATION_P99_MS} + ${fieldIntervalMs}`);
    if ((row.ackMs.p99 ?? 0) > SATURATION_P99_MS) reasons.push(`${p}ack p99 ${Math.round(row.ackMs.p99!)} ms`);
    if (problemCount(row) > 0) reasons.push(`${p}${problemCount(row)} errors`);
    if (row.disconnected > 0) reasons.push(`${p}${row.disconnected} disconnected`);
  }
  return reasons;
}
