import type { ClockStats } from "../clock/tokenClock.js";
import type { LedgerStats } from "../ledger/ledger.js";
import type { LinkState } from "../runtime/edgeLink.js";
import type { LatencyWindow } from "../runtime/latencyWindow.js";
import type { MeshView } from "../runtime/meshOscillator.js";
import type { PipelineCounters } from "../runtime/tickPipeline.js";
import type { TokenQueueStats } from "../runtime/tokenQueue.js";
import { CUT_REASONS, type ConnectionStats } from "./connectionGuard.js";
import { counter, gauge, renderMetrics, type Metric } from "./metricsText.js";

const LINK_STATES: readonly LinkState[] = ["disabled", "enrolling", "connecting", "connected", "backoff", "closed"];

export interface AgentMetricsInput {
  readonly clock: ClockStats;
  readonly lateness: LatencyWindow;
  readonly queue: TokenQueueStats;
  readonly pipeline: PipelineCounters;
  readonly ledger: LedgerStats;
  readonly coherence: number;
  readonly mesh: MeshView;
  readonly link: LinkState;
  readonly linkStats?: Record<string, number | string | boolean | null> | undefined;
  /** The local API's connections (absent while it is not serving). */
  readonly api?: ConnectionStats | undefined;
}

/** GET /metrics: the agent's counters and gauges in Prometheus text format. */
export function agentMetrics(m: AgentMetricsInput): string {
  const p = "becomingone_";
  const metrics: Metric[] = [
    counter(`${p}ticks_total`, "Token clock ticks run.", m.clock.ticks),
    counter(`${p}ticks_late_total`, "Ticks that ran more than a quarter period after their due time.", m.clock.late),
    counter(`${p}ticks_missed_total`, "Scheduled ticks skipped because the next one was already due.", m.clock.missed),
    gauge(`${p}clock_hz`, "Token clock rate f.", m.clock.hz),
    {
      name: `${p}tick_lateness_ms`,
      help: "Tick lateness over the last 4096 ticks (ms after the due time).",
      type: "gauge",
      samples: [
        { labels: { quantile: "0.5" }, value: m.lateness.quantile(0.5) },
        { labels: { quantile: "0.99" }, value: m.lateness.quantile(0.99) },
        { labels: { quantile: "1" }, value: m.lateness.quantile(1) },
      ],
    },
    gauge(`${p}queue_depth`, "Tokens waiting for the clock.", m.queue.depth),
    gauge(`${p}queue_capacity`, "Token queue capacity.", m.queue.capacity),
    counter(`${p}tokens_accepted_total`, "Tokens accepted into the queue.", m.queue.accepted),
    counter(`${p}tokens_refused_total`, "Tokens refused because the queue was full.", m.queue.refused),
    counter(`${p}tokens_processed_total`, "Tokens fed through the engine.", m.pipeline.tokens),
    counter(`${p}collapses_total`, "Sync-layer collapses.", m.pipeline.collapses),
    counter(`${p}dissipations_total`, "Inputs dissipated by the sync layer.", m.pipeline.dissipations),
    counter(`${p}resets_total`, "Engine resets.", m.pipeline.resets),
    counter(`${p}engine_errors_total`, "Engine steps that threw (the clock kept running).", m.pipeline.stepErrors),
    counter(`${p}records_sealed_total`, "Records sealed into the ledger.", m.pipeline.sealed),
    counter(`${p}records_refused_total`, "Records the ledger refused (disk budget) or failed to seal.", m.pipeline.sealRefused),
    gauge(`${p}ledger_records`, "Records in the agent log (durable or pending).", m.ledger.size),
    gauge(`${p}ledger_durable_records`, "Records written and fsynced.", m.ledger.durableCount),
    gauge(`${p}ledger_acked_records`, "Records acknowledged by the edge.", m.ledger.ackedCount),
    gauge(`${p}ledger_pending_records`, "Records waiting for the next fsync.", m.ledger.pendingRecords),
    gauge(`${p}ledger_bytes`, "Bytes of ledger segments on disk.", m.ledger.bytesOnDisk),
    gauge(`${p}ledger_segments`, "Ledger segment files.", m.ledger.segments),
    counter(`${p}ledger_fsyncs_total`, "fsync batches.", m.ledger.fsyncs),
    counter(`${p}ledger_write_errors_total`, "Ledger write or fsync failures (retried).", m.ledger.writeErrors),
    gauge(`${p}coherence`, "Sync coherence after the last token.", m.coherence),
    gauge(`${p}mesh_theta_radians`, "Mesh oscillator phase θ.", m.mesh.theta),
    gauge(`${p}mesh_field_r`, "Order parameter r of the last usable field (0 without one).", m.mesh.field?.r ?? 0),
    gauge(`${p}mesh_field_agents`, "Agents in the last usable field.", m.mesh.field?.n ?? 0),
    {
      name: `${p}link_state`,
      help: "Edge link state (1 for the current state).",
      type: "gauge",
      samples: LINK_STATES.map((s) => ({ labels: { state: s }, value: s === m.link ? 1 : 0 })),
    },
    gauge("process_resident_memory_bytes", "Resident set size.", process.memoryUsage.rss()),
  ];
  if (m.api) {
    const api = m.api;
    metrics.push(gauge(`${p}api_connections`, "Open connections to the local API.", api.open), {
      name: `${p}api_connections_cut_total`,
      help: "Connections the local API closed to protect itself, by reason.",
      type: "counter",
      samples: CUT_REASONS.map((reason) => ({ labels: { reason }, value: api.cut[reason] })),
    });
  }
  for (const [k, v] of Object.entries(m.linkStats ?? {})) {
    if (typeof v === "number" && /^[a-z_][a-z0-9_]*$/.test(k)) metrics.push(gauge(`${p}link_${k}`, `Edge link: ${k}.`, v));
  }
  return renderMetrics(metrics);
}
