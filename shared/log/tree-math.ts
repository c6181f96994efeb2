/**
 * Arithmetic on tree coordinates. Sizes and indices are JavaScript numbers up to 2^53 − 1, so no
 * 32-bit bitwise operators here: halving and parity are done with division and remainder.
 *
 * A node (level, index) is the perfect subtree over leaves [index·2^level, (index+1)·2^level).
 */
import { LogError } from "./errors.js";

/** Requires a non-negative safe integer; otherwise INVALID_NUMBER naming the argument. */
export function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LogError("INVALID_NUMBER", `${name} must be a non-negative safe integer, got ${String(value)}`, {
      name,
      value: String(value),
    });
  }
}

export const isOdd = (x: number): boolean => x % 2 === 1;
export const half = (x: number): number => Math.floor(x / 2);
export const pow2 = (level: number): number => 2 ** level;

/** Number of trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** A stored perfect subtree. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * The perfect subtrees that make up leaves [begin, end), left to right, when begin is a multiple of
 * a power of two ≥ end − begin (true of [0, n) and of every right-edge subtree of an RFC 6962
 * tree). They are the set bits of end − begin, largest first.
 */
export function perfectRanges(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let remaining = end - begin;
  let pos = begin;
  let level = 0;
  while (pow2(level + 1) <= remaining) level++;
  for (; remaining > 0; level--) {
    const width = pow2(level);
    if (remaining >= width) {
      out.push({ level, index: pos / width });
      pos += width;
      remaining -= width;
    }
  }
  return out;
}
