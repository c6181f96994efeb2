import { z } from "zod";

/**
 * Fleet configuration, pushed to agents in `welcome` and in `config` whenever an operator changes it.
 * `version` grows by one with every change, so an agent can ignore a stale copy.
 */
export const fleetConfigSchema = z.object({
  version: z.number().int().min(1),
  /** Kuramoto coupling K of dθ = ω dt + K r sin(ψ − θ) dt. */
  coupling: z.number().min(0).max(100),
  /** Most phase summaries per second an agent may send; faster ones are refused (`rate_limited`). */
  summaryHz: z.number().gt(0).max(10),
  /** Field broadcasts per second while agents are connected. */
  fieldHz: z.number().gt(0).max(10),
  /** Largest |dθ| an agent applies in one tick, radians (the reference's "tear protection"). */
  maxStep: z.number().gt(0).max(Math.PI),
  /** A summary older than this excludes the agent from the field (the reference's peer age). */
  peerAgeMs: z.number().int().min(500).max(600_000),
  /** No socket and no message for this long: the agent is shown offline (docs/edge.md#presence-connected-online-offline). */
  offlineAfterMs: z.number().int().min(1000).max(3_600_000),
  /** Drift thresholds (ENGINE.md §9; docs/edge.md#causality). */
  drift: z.object({
    /** Sustained-drift budget per summary interval, in expected ticks during one latency. */
    maxCausalOvershoot: z.number().gt(0),
    /** Kept for compatibility; no effect since issue 11 (a phase gap is what coupling closes). */
    maxPhaseGap: z.number().gt(0),
    /** Kept for compatibility; no effect since issue 11 (low coherence is not misbehaviour). */
    minPeerCoherence: z.number().min(0).max(1),
  }),
});

export type FleetConfig = z.infer<typeof fleetConfigSchema>;

/** The defaults of a new fleet (the reference's mesh constants, ENGINE.md §9, and 2 Hz rates). */
export const DEFAULT_FLEET_CONFIG: FleetConfig = {
  version: 1,
  coupling: 2.5,
  summaryHz: 2,
  fieldHz: 2,
  maxStep: 0.05,
  peerAgeMs: 5000,
  offlineAfterMs: 15_000,
  // Only maxCausalOvershoot is a rule; the phase-gap and coherence floors no longer exclude anyone
  // (they emptied the field of agents not yet locked; docs/edge.md#causality).
  drift: { maxCausalOvershoot: 4, maxPhaseGap: 0.5, minPeerCoherence: 0 },
};

/** What an operator may change (`PATCH /v1/fleet/config`); `version` is assigned by the edge. */
export const fleetConfigPatchSchema = fleetConfigSchema
  .omit({ version: true, drift: true })
  .partial()
  .extend({ drift: fleetConfigSchema.shape.drift.partial().optional() })
  .strict();

export type FleetConfigPatch = z.infer<typeof fleetConfigPatchSchema>;
