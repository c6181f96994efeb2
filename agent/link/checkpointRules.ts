import { verifyConsistency } from "../../shared/log/proof-verify.js";
import { EMPTY_ROOT } from "../../shared/log/rfc6962.js";

/**
 * When a new global checkpoint may replace the one kept on disk. Pure rules; the I/O (fetching the
 * proof, writing the file) is in logAuditor.ts. A checkpoint reaching these rules already carries a
 * valid signature by the pinned verifier key and the pinned origin.
 *
 * - nothing kept yet: accept (trust on first use of this log, after the signature check);
 * - same size: the roots must be equal, else the edge signed two different trees: a fork;
 * - larger: accept only with a consistency proof from the kept tree to the new one;
 * - smaller (an older checkpoint, e.g. a cached answer): never replaces the kept one, but it must
 *   still be consistent with it (a proof from the older to the kept), else the edge rewrote history.
 */
export interface TreeHead {
  readonly size: number;
  readonly root: Uint8Array;
}

export type CheckpointPlan =
  | { readonly kind: "accept" }
  | { readonly kind: "unchanged" }
  /** Fetch a consistency proof from `from` to `to`; on success, replace the kept checkpoint if `replace`. */
  | { readonly kind: "prove"; readonly from: number; readonly to: number; readonly replace: boolean }
  | { readonly kind: "inconsistent"; readonly reason: string };

export function planCheckpoint(kept: TreeHead | undefined, candidate: TreeHead): CheckpointPlan {
  if (candidate.size === 0 && !sameBytes(candidate.root, EMPTY_ROOT)) {
    return { kind: "inconsistent", reason: "checkpoint of size 0 with a root other than the empty tree's" };
  }
  if (kept === undefined) return { kind: "accept" };
  if (candidate.size === kept.size) {
    return sameBytes(candidate.root, kept.root)
      ? { kind: "unchanged" }
      : { kind: "inconsistent", reason: `two different roots signed for tree size ${kept.size} (a fork)` };
  }
  // RFC 9162 has no consistency proof from the empty tree: every tree extends it.
  if (kept.size === 0) return { kind: "accept" };
  if (candidate.size === 0) return { kind: "unchanged" };
  if (candidate.size > kept.size) return { kind: "prove", from: kept.size, to: candidate.size, replace: true };
  return { kind: "prove", from: candidate.size, to: kept.size, replace: false };
}

/**
 * Checks a consistency proof for a `prove` plan against OUR two roots (never the roots a proof
 * response carries). Returns undefined when it verifies, else why not.
 */
export function checkConsistency(kept: TreeHead, candidate: TreeHead, plan: Extract<CheckpointPlan, { kind: "prove" }>, proof: readonly Uint8Array[]): string | undefined {
  const [older, newer] = plan.replace ? [kept, candidate] : [candidate, kept];
  try {
    verifyConsistency(older.size, newer.size, proof, older.root, newer.root);
    return undefined;
  } catch (err) {
    return `consistency proof ${older.size} → ${newer.size} does not verify: ${(err as Error).message}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
