/**
 * Verification of inclusion and consistency proofs: RFC 9162 §2.1.3.2 and §2.1.4.2. Each verifier
 * first checks its preconditions and the proof's length (so a failure names the bound and the
 * numbers), then computes the root(s) from the proof and compares: verify = compute + compare.
 *
 * All functions throw LogError (RootMismatchError for a wrong root) and return nothing on success.
 */
import { bytesEqual } from "../encoding/bytes.js";
import { LogError, RootMismatchError } from "./errors.js";
import { consistencyPlan, inclusionPlan } from "./proof-build.js";
import { HASH_SIZE, hashChildren } from "./rfc6962.js";
import { half, isOdd } from "./tree-math.js";

function requireHash(what: string, hash: Uint8Array): void {
  if (hash.length !== HASH_SIZE) {
    throw new LogError("HASH_LENGTH", `${what} is ${hash.length} bytes, want ${HASH_SIZE}`, { what, got: hash.length, want: HASH_SIZE });
  }
}

function requireProof(proof: readonly Uint8Array[], want: number): void {
  if (proof.length !== want) {
    throw new LogError("PROOF_LENGTH", `proof has ${proof.length} hashes, want ${want}`, { got: proof.length, want });
  }
  proof.forEach((h, i) => requireHash(`proof[${i}]`, h));
}

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 2–4).
 * Requires 0 <= index < size and a proof of exactly the length that index and size imply.
 * @throws LogError INVALID_NUMBER, INDEX_OUT_OF_RANGE, PROOF_LENGTH, HASH_LENGTH
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Uint8Array {
  const want = inclusionPlan(index, size).length;
  requireHash("leaf hash", leafHash);
  requireProof(proof, want);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    // sn === 0 cannot happen with a proof of the planned length; kept as the RFC's guard.
    if (sn === 0) throw new LogError("PROOF_LENGTH", `proof has more than ${want} hashes`, { got: proof.length, want });
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new LogError("PROOF_LENGTH", `proof has fewer hashes than the tree needs (${proof.length})`, { got: proof.length, want });
  return r;
}

/**
 * Checks that the leaf with hash `leafHash` is at `index` in the tree of `size` leaves with `root`.
 * Requires 0 <= index < size.
 * @throws LogError (RootMismatchError when the proof leads to another root)
 */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  const calculated = rootFromInclusionProof(leafHash, index, size, proof);
  requireHash("root", root);
  if (!bytesEqual(calculated, root)) throw new RootMismatchError(root, calculated);
}

/**
 * Checks that the tree of size2 leaves with root2 extends the tree of size1 leaves with root1.
 * Requires 0 < size1 <= size2. Equal sizes need an empty proof and identical roots. Consistency
 * from the empty tree is rejected: RFC 9162 defines proofs only for 0 < m, and the test vectors
 * (transparency-dev/merkle) expect an error (see docs/log.md).
 * @throws LogError (RootMismatchError naming "root1" or "root2")
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const want = consistencyPlan(size1, size2).length;
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new LogError("PROOF_NOT_EMPTY", `sizes are equal (${size1}) but the proof has ${proof.length} hashes`, {
        size1,
        size2,
        got: proof.length,
      });
    }
    // Same tree: the roots must be the same bytes (no hashing to do, so no length rule either).
    if (!bytesEqual(root1, root2)) throw new RootMismatchError(root1, root2, "root2");
    return;
  }
  requireProof(proof, want);
  requireHash("root1", root1);
  requireHash("root2", root2);

  // RFC 9162 §2.1.4.2. Step 2: when size1 is a power of two, the old root is the proof's first node.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw new LogError("PROOF_LENGTH", `proof has more than ${want} hashes`, { got: proof.length, want });
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new LogError("PROOF_LENGTH", `proof has fewer hashes than the trees need (${proof.length})`, { got: proof.length, want });
  if (!bytesEqual(fr, root1)) throw new RootMismatchError(root1, fr, "root1");
  if (!bytesEqual(sr, root2)) throw new RootMismatchError(root2, sr, "root2");
}

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
