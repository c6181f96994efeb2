/**
 * Which stored hashes a proof is made of (RFC 9162 §2.1.3.1 inclusion, §2.1.4.1 consistency), and
 * how to assemble it from a node reader. Pure: no storage, so the same plan serves the tree, the
 * bench's read counting, and the verifier's expected proof length.
 *
 * Each proof element is the hash of one subtree of the RFC 6962 tree. Inside the tree it is a
 * stored perfect subtree; on the right edge of a tree whose size is not a power of two it is an
 * "ephemeral" subtree, folded from the ≤ log n perfect subtrees that make it up. A proof therefore
 * reads at most (path length) + (one folded edge) ≤ 2·log2 n stored hashes, never the whole tree.
 */
import { LogError } from "./errors.js";
import { hashChildren } from "./rfc6962.js";
import { half, isOdd, perfectRanges, pow2, requireCount, trailingZeros, type NodeId } from "./tree-math.js";

/** A proof element: the perfect subtrees whose fold is that element's hash (one, unless on the right edge). */
export type ProofElementPlan = readonly NodeId[];

/** The hashes of a proof, bottom-up, as lists of stored nodes. */
export type ProofPlan = readonly ProofElementPlan[];

/** Reads a stored perfect subtree hash (throws if the store lacks it). */
export type NodeReader = (level: number, index: number) => Uint8Array;

// Siblings on the path from node (level, index) up to the root of a tree of `size` leaves. A
// sibling wholly past the end does not exist (the RFC tree promotes the node unchanged); one that
// straddles the end is the folded right edge.
function pathSiblings(level: number, index: number, size: number): ProofElementPlan[] {
  const out: ProofElementPlan[] = [];
  for (; pow2(level) < size; level++, index = half(index)) {
    const width = pow2(level);
    const sibling = isOdd(index) ? index - 1 : index + 1;
    const begin = sibling * width;
    if (begin >= size) continue;
    out.push(begin + width <= size ? [{ level, index: sibling }] : perfectRanges(begin, size));
  }
  return out;
}

/**
 * The plan of the inclusion proof of leaf `index` in the tree of `size` leaves.
 * Requires 0 <= index < size.
 * @throws LogError INVALID_NUMBER, INDEX_OUT_OF_RANGE
 */
export function inclusionPlan(index: number, size: number): ProofPlan {
  requireCount("index", index);
  requireCount("size", size);
  if (index >= size) {
    throw new LogError("INDEX_OUT_OF_RANGE", `index ${index} out of range for tree size ${size}`, { index, size });
  }
  return pathSiblings(0, index, size);
}

/**
 * The plan of the consistency proof from size1 to size2: empty when they are equal, otherwise the
 * last perfect subtree of the size1 tree (omitted when size1 is a power of two, since the verifier
 * holds it as the old root) followed by that subtree's path in the size2 tree.
 * Requires 0 < size1 <= size2.
 * @throws LogError INVALID_NUMBER, EMPTY_TREE_CONSISTENCY, SIZE_ORDER
 */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  requireCount("size1", size1);
  requireCount("size2", size2);
  if (size1 > size2) {
    throw new LogError("SIZE_ORDER", `size1 ${size1} is greater than size2 ${size2}`, { size1, size2 });
  }
  if (size1 === 0) {
    throw new LogError("EMPTY_TREE_CONSISTENCY", `consistency from the empty tree (size1 0) to size2 ${size2} is not defined`, {
      size1,
      size2,
    });
  }
  if (size1 === size2) return [];
  const level = trailingZeros(size1);
  const index = size1 / pow2(level) - 1; // (size1 - 1) >> level, as size1 = odd · 2^level
  const path = pathSiblings(level, index, size2);
  return index === 0 ? path : [[{ level, index }], ...path];
}

/** The root plan of the tree of `size` leaves (size > 0): its perfect subtrees, to fold. */
export function rootPlan(size: number): ProofElementPlan {
  requireCount("size", size);
  return perfectRanges(0, size);
}

/** Folds perfect subtree hashes (left to right) into the hash of their RFC 6962 subtree. Returns a new array. */
export function foldElement(plan: ProofElementPlan, read: NodeReader): Uint8Array {
  const last = plan[plan.length - 1]!;
  // Copy a lone stored hash: the reader may hand out a view of the store's own memory.
  if (plan.length === 1) return read(last.level, last.index).slice();
  let acc = read(last.level, last.index);
  for (let i = plan.length - 2; i >= 0; i--) acc = hashChildren(read(plan[i]!.level, plan[i]!.index), acc);
  return acc;
}

/** Assembles a proof's hashes from a plan. */
export function buildProof(plan: ProofPlan, read: NodeReader): Uint8Array[] {
  return plan.map((element) => foldElement(element, read));
}

/** The number of stored hashes a plan reads. */
export function planReads(plan: ProofPlan): number {
  let n = 0;
  for (const element of plan) n += element.length;
  return n;
}
