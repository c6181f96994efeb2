/**
 * Mutual witnessing: two witnesses witness the same content; their "WE" coherence is the mean of
 * both, ×1.5 when they differ by < 0.2, bounded to 1 (the reference could exceed 1, ENGINE.md §9).
 * The WE witness is created once, not recreated per call.
 */
import type { WitnessingLayer } from "./witnessing.js";

export interface MutualWitnessing {
  readonly witnessA: string;
  readonly witnessB: string;
  readonly individualCoherence: number;
  readonly mutualBoost: boolean;
  /** In [0, 1]. */
  readonly weCoherence: number;
  readonly weWitnessId: string;
  readonly timestamp: number;
}

export const MUTUAL_BOOST_BELOW = 0.2;
export const MUTUAL_BOOST_FACTOR = 1.5;

/** Both witnesses observe and reflect `content` at their own coherence; missing ones are created. */
export function mutualWitnessing(
  layer: WitnessingLayer,
  a: string,
  b: string,
  content: unknown,
  coherenceA: number,
  coherenceB: number,
  now: number,
): MutualWitnessing {
  if (!layer.getWitness(a)) layer.createWitness(a, "witness_other");
  if (!layer.getWitness(b)) layer.createWitness(b, "witness_other");
  const wa = layer.reflect(layer.observe(content, a, coherenceA, now), a);
  const wb = layer.reflect(layer.observe(content, b, coherenceB, now), b);
  const ca = wa.coherenceAtWitnessing;
  const cb = wb.coherenceAtWitnessing;
  const individual = (ca + cb) / 2;
  const mutualBoost = Math.abs(ca - cb) < MUTUAL_BOOST_BELOW;
  const we = Math.min(1, individual * (mutualBoost ? MUTUAL_BOOST_FACTOR : 1));
  const weId = `WE_${a}_${b}`;
  if (!layer.getWitness(weId)) layer.createWitness(weId, "mutual");
  return { witnessA: wa.contentId, witnessB: wb.contentId, individualCoherence: individual, mutualBoost, weCoherence: we, weWitnessId: weId, timestamp: now };
}
