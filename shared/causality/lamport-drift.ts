/**
 * The reference's Lamport drift analysis of two nodes (REFERENCE.md §11.1), with its formulas, defaults
 * and reason strings. A violation means the slower node must not couple (weight 0).
 */
export interface DriftNode {
  readonly nodeId: string;
  readonly lamportClock: number;
  readonly phaseDriftRads: number;
  readonly coherence: number;
  /** Used from the fast node only (default 1). */
  readonly tokenGenerationHz?: number;
  /** Used from the slow node only (default 0). */
  readonly networkLatencyMs?: number;
}

export interface DriftThresholds {
  readonly maxCausalOvershoot: number;
  readonly maxPhaseGap: number;
  readonly minPeerCoherence: number;
  readonly coupling: number;
  readonly peerCount: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = {
  maxCausalOvershoot: 4,
  maxPhaseGap: 0.5,
  minPeerCoherence: 0.5,
  coupling: 2.5,
  peerCount: 2,
};

export interface LamportDriftReport {
  readonly fastNodeId: string;
  readonly slowNodeId: string;
  readonly lamportDelta: number;
  readonly latencyMs: number;
  readonly tokenGenerationHz: number;
  readonly expectedTicksDuringLatency: number;
  readonly causalOvershootRatio: number;
  readonly phaseGapRads: number;
  readonly rawKuramotoStepRads: number;
  readonly coherenceGap: number;
  readonly slowNodeCoherence: number;
  readonly violatesCausalBound: boolean;
  readonly reason: string;
}

export function analyzeLamportDrift(
  fast: DriftNode,
  slow: DriftNode,
  thresholds: Partial<DriftThresholds> = {},
): LamportDriftReport {
  const limits = { ...DEFAULT_DRIFT_THRESHOLDS, ...thresholds };
  const lamportDelta = Math.abs(fast.lamportClock - slow.lamportClock);
  const hz = fast.tokenGenerationHz ?? 1;
  const latencyMs = slow.networkLatencyMs ?? 0;
  const expected = Math.max((hz * latencyMs) / 1000, 1);
  const overshoot = lamportDelta / expected;
  const gap = Math.abs(fast.phaseDriftRads - slow.phaseDriftRads);
  const rawStep = (limits.coupling / Math.max(limits.peerCount, 1)) * Math.abs(Math.sin(gap));
  const reasons: string[] = [];
  if (overshoot > limits.maxCausalOvershoot) {
    reasons.push(
      `Lamport gap ${lamportDelta} exceeds latency budget ${expected.toFixed(2)} ticks by ${overshoot.toFixed(2)}x`,
    );
  }
  if (gap > limits.maxPhaseGap) {
    reasons.push(`phase gap ${gap.toFixed(3)} rad exceeds ${limits.maxPhaseGap.toFixed(3)}`);
  }
  if (slow.coherence < limits.minPeerCoherence) {
    reasons.push(`slow peer coherence ${slow.coherence.toFixed(3)} below ${limits.minPeerCoherence.toFixed(3)}`);
  }
  return {
    fastNodeId: fast.nodeId,
    slowNodeId: slow.nodeId,
    lamportDelta,
    latencyMs,
    tokenGenerationHz: hz,
    expectedTicksDuringLatency: expected,
    causalOvershootRatio: overshoot,
    phaseGapRads: gap,
    rawKuramotoStepRads: rawStep,
    coherenceGap: Math.abs(fast.coherence - slow.coherence),
    slowNodeCoherence: slow.coherence,
    violatesCausalBound: reasons.length > 0,
    reason: reasons.length > 0 ? reasons.join("; ") : "within causal coupling bounds",
  };
}

/** 0 when the report violates the causal bound, else 1. */
export function couplingWeightFromDrift(report: Pick<LamportDriftReport, "violatesCausalBound">): number {
  return report.violatesCausalBound ? 0 : 1;
}
