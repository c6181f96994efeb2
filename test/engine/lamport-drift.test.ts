import { describe, expect, it } from "vitest";
import { couplingWeightFromDrift } from "../../shared/causality/index.js";
import { TelemetryError, analyzeTelemetryDrift } from "../../agent/engine/index.js";

function telemetry(fast: Record<string, number>, slow: Record<string, number>) {
  return { nodes: [{ node_id: "inf-01", kairos_metrics: fast }, { node_id: "pi-zero-01", kairos_metrics: slow }] };
}

describe("lamport drift analysis of telemetry", () => {
  it("within bounds: weight 1 and the reference's reason text", () => {
    const r = analyzeTelemetryDrift(telemetry({ lamport_clock: 110, token_generation_hz: 20, phase_drift_rads: 0.1, coherence_t_tau: 0.9 }, { lamport_clock: 100, network_latency_ms: 500, phase_drift_rads: 0.2, coherence_t_tau: 0.8 }));
    expect(r.expectedTicksDuringLatency).toBe(10);
    expect(r.causalOvershootRatio).toBe(1);
    expect(r.violatesCausalBound).toBe(false);
    expect(r.reason).toBe("within causal coupling bounds");
    expect(couplingWeightFromDrift(r)).toBe(1);
  });

  it("expected ticks never fall below 1; each bound is reported on its own", () => {
    const r = analyzeTelemetryDrift(telemetry({ lamport_clock: 100 }, { lamport_clock: 0, coherence_t_tau: 0.9 }));
    expect(r.expectedTicksDuringLatency).toBe(1);
    expect(r.reason).toBe("Lamport gap 100 exceeds latency budget 1.00 ticks by 100.00x");
    expect(couplingWeightFromDrift(r)).toBe(0);
  });

  it("names missing nodes and malformed fields", () => {
    expect(() => analyzeTelemetryDrift({ nodes: [] })).toThrow(/inf-01, pi-zero-01/);
    expect(() => analyzeTelemetryDrift({ nodes: [{ node_id: "inf-01", kairos_metrics: { lamport_clock: "x" } }] })).toThrow(TelemetryError);
  });
});
