/**
 * The reference's drift analysis applied to its telemetry format ({nodes: [{node_id,
 * kairos_metrics}]}, data/telemetry_sample.json). The analysis itself is shared/causality's
 * `analyzeLamportDrift` (one implementation for edge and agent); this module only validates the
 * telemetry and maps it onto the two nodes.
 */
import { z } from "zod";
import { type DriftThresholds, type LamportDriftReport, analyzeLamportDrift } from "../../shared/causality/index.js";

const metricsSchema = z.object({
  coherence_t_tau: z.number().finite().optional(),
  phase_drift_rads: z.number().finite().optional(),
  lamport_clock: z.number().finite().optional(),
  token_generation_hz: z.number().finite().optional(),
  network_latency_ms: z.number().finite().optional(),
});

const telemetrySchema = z.object({
  nodes: z.array(z.object({ node_id: z.string(), kairos_metrics: metricsSchema.default({}) })),
});

export class TelemetryError extends Error {
  override readonly name = "TelemetryError";
}

/**
 * Drift report of `fast` against `slow` from a telemetry document; throws TelemetryError naming
 * the bad field or the missing node ids (sorted), as the reference did.
 */
export function analyzeTelemetryDrift(
  telemetry: unknown,
  fast = "inf-01",
  slow = "pi-zero-01",
  thresholds: Partial<DriftThresholds> = {},
): LamportDriftReport {
  const parsed = telemetrySchema.safeParse(telemetry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TelemetryError(`telemetry.${issue.path.join(".")}: ${issue.message}`);
  }
  const byId = new Map(parsed.data.nodes.map((n) => [n.node_id, n.kairos_metrics]));
  const missing = [fast, slow].filter((id) => !byId.has(id)).sort();
  if (missing.length > 0) throw new TelemetryError(`telemetry is missing node(s): ${missing.join(", ")}`);
  const node = (id: string) => {
    const m = byId.get(id)!;
    return {
      nodeId: id,
      lamportClock: m.lamport_clock ?? 0,
      phaseDriftRads: m.phase_drift_rads ?? 0,
      coherence: m.coherence_t_tau ?? 0,
      ...(m.token_generation_hz !== undefined ? { tokenGenerationHz: m.token_generation_hz } : {}),
      ...(m.network_latency_ms !== undefined ? { networkLatencyMs: m.network_latency_ms } : {}),
    };
  };
  return analyzeLamportDrift(node(fast), node(slow), thresholds);
}
