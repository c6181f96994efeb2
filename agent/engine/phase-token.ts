import { HASH_ENCODER_DIMENSIONS, hashPhaseEncoder, type PhaseEncoder } from "./encoder.js";
import { SeededRandom } from "./prng.js";

/**
 * Encoders that give phases meaning (docs/engine.md, "Encoders"): a token that carries its own
 * phase ("φ:1.234"), and the projection of an embedding onto fixed random planes. Both produce a
 * vector of `HASH_ENCODER_DIMENSIONS` angles, like the hash encoder, so tokens of either kind can be
 * mixed in one stream (a vector of another length is only compared through its mean).
 */

/** Largest |x| accepted in a phase token (beyond it doubles lose the fraction that carries the phase). */
export const PHASE_TOKEN_MAX_ABS = 1e6;
const PHASE_TOKEN = /^(?:φ|phi):([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$/;

/** Wraps an angle to (−π, π]. */
export function wrapAngle(x: number): number {
  const two = 2 * Math.PI;
  let a = x - two * Math.floor((x + Math.PI) / two);
  if (a <= -Math.PI) a += two;
  return a;
}

/** The angle of a phase token ("φ:1.234" or "phi:-0.5", radians, |x| ≤ 10⁶), wrapped to (−π, π]; undefined otherwise. */
export function parsePhaseToken(text: string): number | undefined {
  if (text.length > 40) return undefined;
  const m = PHASE_TOKEN.exec(text);
  if (!m) return undefined;
  const x = Number(m[1]);
  if (!Number.isFinite(x) || Math.abs(x) > PHASE_TOKEN_MAX_ABS) return undefined;
  return wrapAngle(x);
}

/** The text of a phase token for angle x (12 significant digits: what parsePhaseToken reads back). */
export function phaseToken(x: number): string {
  return `φ:${wrapAngle(x).toPrecision(12)}`;
}

/** A vector of `dimensions` copies of one angle: every dimension turns together. */
export function uniformAngles(angle: number, dimensions = HASH_ENCODER_DIMENSIONS): Float64Array {
  return new Float64Array(dimensions).fill(angle);
}

/**
 * Phase tokens become a uniform vector of their angle; any other token goes to `fallback` (the
 * hash encoder by default). Deterministic and synchronous.
 */
export function phaseTokenEncoder(fallback: PhaseEncoder = hashPhaseEncoder): PhaseEncoder {
  return {
    name: `phase-token+${fallback.name}`,
    encode(text: string): Float64Array {
      const angle = parsePhaseToken(text);
      return angle === undefined ? fallback.encode(text) : uniformAngles(angle);
    },
  };
}

/** Seed of the fixed random planes (a constant: every agent maps one embedding to the same angles). */
const PLANE_SEED = 0x6b61_6952;
const planeCache = new Map<string, Float64Array>();

/** 2·planes unit vectors of length `dims`, drawn once from a fixed seed (normals, normalised). */
function planes(dims: number, count: number): Float64Array {
  const key = `${dims}x${count}`;
  const hit = planeCache.get(key);
  if (hit) return hit;
  const rng = new SeededRandom(PLANE_SEED + dims);
  const out = new Float64Array(2 * count * dims);
  for (let v = 0; v < 2 * count; v++) {
    let norm = 0;
    for (let k = 0; k < dims; k++) {
      const x = rng.nextNormal();
      out[v * dims + k] = x;
      norm += x * x;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let k = 0; k < dims; k++) out[v * dims + k]! *= inv;
  }
  // Few distinct (dims, count) pairs exist per process (the encoder pins one length); keep at most 4 (≤ 4·2·16·8192 doubles).
  if (planeCache.size >= 4) planeCache.delete(planeCache.keys().next().value!);
  planeCache.set(key, out);
  return out;
}

/**
 * An embedding e (finite numbers) → angles: for each of `count` fixed random planes (u_p, v_p),
 * θ_p = atan2(e·v_p, e·u_p), the direction of e's shadow on that plane; the output repeats
 * θ_0 … θ_{count−1} over `dimensions` angles. Texts with nearby embeddings get nearby angles on
 * every plane (the angle between two shadows shrinks with the angle between the embeddings), so a
 * stream of related texts turns slowly and coherently; unrelated texts scatter. A zero shadow gives 0.
 * @throws RangeError when e is empty or holds a non-finite number
 */
export function embeddingAngles(e: ArrayLike<number>, count = 8, dimensions = HASH_ENCODER_DIMENSIONS): Float64Array {
  const dims = e.length;
  if (dims < 1) throw new RangeError("embedding is empty");
  if (!(Number.isSafeInteger(count) && count >= 1 && count <= 16)) throw new RangeError(`planes must be 1..16, got ${count}`);
  for (let k = 0; k < dims; k++) if (!Number.isFinite(e[k])) throw new RangeError(`embedding[${k}] is not a finite number`);
  const basis = planes(dims, count);
  const theta = new Float64Array(count);
  for (let p = 0; p < count; p++) {
    let x = 0;
    let y = 0;
    const u = 2 * p * dims;
    const v = u + dims;
    for (let k = 0; k < dims; k++) {
      x += e[k]! * basis[u + k]!;
      y += e[k]! * basis[v + k]!;
    }
    theta[p] = x === 0 && y === 0 ? 0 : Math.atan2(y, x);
  }
  const out = new Float64Array(dimensions);
  for (let k = 0; k < dimensions; k++) out[k] = theta[k % count]!;
  return out;
}
