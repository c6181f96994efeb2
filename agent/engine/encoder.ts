import { sha256 } from "@noble/hashes/sha2.js";

/**
 * Turns a text into phase angles (radians), one per dimension. The engine turns each angle a into the
 * unit phasor cos a + i·sin a. Any model can stand behind this interface (e.g. a sentence-embedding
 * model with angles = atan2(e_k/|e|, 1)); it must be synchronous and deterministic.
 */
export interface PhaseEncoder {
  readonly name: string;
  /** Angles in radians; an empty result is treated as the single angle 0. */
  encode(text: string): Float64Array;
  /**
   * Optional: a hint that `text` will be encoded soon (an encoder backed by a service starts
   * fetching it in the background). Must return at once.
   */
  prefetch?(text: string): void;
}

export const HASH_ENCODER_DIMENSIONS = 384;
const WINDOWS = 28;
const PRIME = 104729;
const MODULUS = 1_000_000;
const utf8 = new TextEncoder();

/**
 * The reference's deterministic hash encoder (ENGINE.md §1): SHA-256 of the UTF-8 bytes; for k in
 * 0..383, v = big-endian uint32 at byte k mod 28, a_k = ((v + k·104729) mod 10⁶)/10⁶·2π − π.
 * Every intermediate is an exact integer below 2^53, so the angles are bit-identical to Python's.
 */
export function hashAngles(text: string): Float64Array {
  const h = sha256(utf8.encode(text));
  // (v + k·104729) mod 10⁶ = ((v mod 10⁶) + (k·104729 mod 10⁶)) mod 10⁶, all exact integers;
  // this avoids a floating-point modulo per dimension.
  const windowMod = new Float64Array(WINDOWS);
  for (let o = 0; o < WINDOWS; o++) {
    const v = ((h[o]! << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!) >>> 0;
    windowMod[o] = v - Math.floor(v / MODULUS) * MODULUS;
  }
  const out = new Float64Array(HASH_ENCODER_DIMENSIONS);
  for (let k = 0, o = 0; k < HASH_ENCODER_DIMENSIONS; k++, o = o + 1 === WINDOWS ? 0 : o + 1) {
    let r = windowMod[o]! + PRIME_MOD[k]!;
    if (r >= MODULUS) r -= MODULUS;
    out[k] = (r / MODULUS) * 2 * Math.PI - Math.PI;
  }
  return out;
}

const PRIME_MOD = (() => {
  const t = new Float64Array(HASH_ENCODER_DIMENSIONS);
  for (let k = 0; k < HASH_ENCODER_DIMENSIONS; k++) t[k] = (k * PRIME) % MODULUS;
  return t;
})();

export const hashPhaseEncoder: PhaseEncoder = { name: "sha256-hash-384", encode: hashAngles };
