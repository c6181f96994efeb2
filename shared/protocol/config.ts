import { z } from "zod";
import { FLEET_CONFIG_BOUNDS as B, type NumberBound } from "./config-bounds.js";

/** A zod number with a bound of config-bounds.ts. */
function bounded(b: NumberBound) {
  let n = b.integer === true ? z.number().int() : z.number();
  n = b.exclusiveMin === true ? n.gt(b.min) : n.min(b.min);
  return b.max === undefined ? n : n.max(b.max);
}

/**
 * Fleet configuration, pushed to agents in `welcome` and in `config` whenever an operator changes it.
 * `version` grows by one with every change, so an agent can ignore a stale copy.
 */
export const fleetConfigSchema = z.object({
  version: z.number().int().min(1),
  /** Kuramoto coupling K of dθ = ω dt + K r sin(ψ − θ) dt. */
  coupling: bounded(B.coupling),
  /** Most phase summaries per second an agent may send; faster ones are refused (`rate_limited`). */
  summaryHz: bounded(B.summaryHz),
  /** Field broadcasts per second while agents are connected. */
  fieldHz: bounded(B.fieldHz),
  /** Largest |dθ| an agent applies in one tick, radians (the reference's "tear protection"). */
  maxStep: bounded(B.maxStep),
  /** A summary older than this excludes the agent from the field (the reference's peer age). */
  peerAgeMs: bounded(B.peerAgeMs),
  /** No socket and no message for this long: the agent is shown offline (docs/edge.md#presence-connected-online-offline). */
  offlineAfterMs: bounded(B.offlineAfterMs),
  /** Drift thresholds (ENGINE.md §9; docs/edge.md#causality). */
  drift: z.object({
    /** Sustained-drift budget per summary interval, in expected ticks during one latency. */
    maxCausalOvershoot: bounded(B.drift.maxCausalOvershoot),
    /** Kept for compatibility; no effect since issue 11 (a phase gap is what coupling closes). */
    maxPhaseGap: bounded(B.drift.maxPhaseGap),
    /** Kept for compatibility; no effect since issue 11 (low coherence is not misbehaviour). */
    minPeerCoherence: bounded(B.drift.minPeerCoherence),
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
