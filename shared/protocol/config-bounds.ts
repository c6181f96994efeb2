/**
 * The bounds of the fleet configuration's numbers, without zod: config.ts builds its schema from
 * them, and the dashboard's config form imports them (so the browser bundle gets the same limits
 * without zod). `exclusiveMin` means the value must be greater than `min`.
 */
export interface NumberBound {
  readonly min: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
}

export const FLEET_CONFIG_BOUNDS = {
  coupling: { min: 0, max: 100 },
  summaryHz: { min: 0, max: 10, exclusiveMin: true },
  fieldHz: { min: 0, max: 10, exclusiveMin: true },
  maxStep: { min: 0, max: Math.PI, exclusiveMin: true },
  peerAgeMs: { min: 500, max: 600_000, integer: true },
  offlineAfterMs: { min: 1000, max: 3_600_000, integer: true },
  drift: {
    maxCausalOvershoot: { min: 0, exclusiveMin: true },
    maxPhaseGap: { min: 0, exclusiveMin: true },
    minPeerCoherence: { min: 0, max: 1 },
  },
} as const satisfies Record<string, NumberBound | Record<string, NumberBound>>;
