/**
 * Properties over random trees (up to 3,000 leaves): every proof the tree builds verifies, and a
 * single flipped bit in a proof hash, a root, the leaf hash or the index is rejected. Runs are
 * bounded to keep the suite quick on a shared 2-core machine.
 *
 * Sizes are different, inherently: an RFC 6962 proof authenticates the leaf (or old tree) against a
 * root, and the size enters the verifier only through the left/right decisions it implies. A size
 * with the same decisions (e.g. leaf 0 with sizes 9 and 11) runs the identical computation, so no
 * verifier can reject it; the size is authenticated by the signed checkpoint instead (see
 * checkpoint.test.ts, where a flipped size bit breaks the signature). So the size properties are:
 * rejected, unless the flipped size makes the verifier take exactly the same steps.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryNodeStore, MerkleTree, hashLeaf, verifyConsistency, verifyInclusion } from "../../shared/log/index.js";

const MAX = 3000;
// One big tree; random sizes below its size are historical trees, served from the same store.
const tree = MerkleTree.open(new MemoryNodeStore());
const leaves: Uint8Array[] = [];
for (let i = 0; i < MAX; i++) {
  const d = new Uint8Array(8);
  new DataView(d.buffer).setUint32(0, i * 2654435761);
  leaves.push(d);
  tree.append(d);
}

const rejects = (run: () => void) => {
  try {
    run();
    return false;
  } catch {
    return true;
  }
};

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

// A bit flip in a number, kept a non-negative safe integer (bits 0–52).
const flipNumber = (x: number, bit: number) => {
  const m = 2 ** bit;
  return Math.floor(x / m) % 2 === 1 ? x - m : x + m;
};

// The RFC 9162 verifier's decisions for (fn, sn): "L" hashes the proof element on the left, "R" on
// the right, "|" marks the end (sn reached 0). Two sizes with equal traces are indistinguishable.
function inclusionTrace(index: number, size: number): string {
  if (index >= size) return "out of range";
  let fn = index;
  let sn = size - 1;
  let trace = "";
  while (sn > 0) {
    if (fn % 2 === 1 || fn === sn) {
      trace += "L";
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
    } else trace += "R";
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return trace + "|";
}

function consistencyTrace(size1: number, size2: number): string {
  if (size1 === 0 || size1 > size2) return "undefined";
  if (size1 === size2) return "equal";
  const pow2 = Number.isInteger(Math.log2(size1));
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let trace = pow2 ? "P" : "";
  while (sn > 0) {
    if (fn % 2 === 1 || fn === sn) {
      trace += "L";
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
    } else trace += "R";
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return trace + "|";
}

const params = { numRuns: 150, seed: 20261126 };

describe("inclusion proofs", () => {
  const sizeAndIndex = fc.integer({ min: 1, max: MAX }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

  it("every generated proof verifies", () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        verifyInclusion(hashLeaf(leaves[index]!), index, size, tree.inclusionProof(index, size), tree.root(size));
      }),
      params,
    );
  });

  it("any single-bit change to a proof hash, the root or the leaf hash is rejected", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.integer({ min: 0, max: 255 }), ([size, index], pick, bit) => {
        const proof = tree.inclusionProof(index, size);
        const root = tree.root(size);
        const leaf = hashLeaf(leaves[index]!);
        const target = pick % (proof.length + 2);
        if (target < proof.length) {
          const bad = proof.slice();
          bad[target] = flipBit(bad[target]!, bit);
          expect(rejects(() => verifyInclusion(leaf, index, size, bad, root))).toBe(true);
        } else if (target === proof.length) {
          expect(rejects(() => verifyInclusion(leaf, index, size, proof, flipBit(root, bit)))).toBe(true);
        } else {
          expect(rejects(() => verifyInclusion(flipBit(leaf, bit), index, size, proof, root))).toBe(true);
        }
      }),
      params,
    );
  });

  it("any single-bit change to the index is rejected", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: 52 }), ([size, index], bit) => {
        const proof = tree.inclusionProof(index, size);
        const leaf = hashLeaf(leaves[index]!);
        expect(rejects(() => verifyInclusion(leaf, flipNumber(index, bit), size, proof, tree.root(size)))).toBe(true);
      }),
      params,
    );
  });

  it("a single-bit change to the size is rejected unless the verifier's steps are identical", () => {
    let rejected = 0;
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: 52 }), ([size, index], bit) => {
        const proof = tree.inclusionProof(index, size);
        const leaf = hashLeaf(leaves[index]!);
        const changed = flipNumber(size, bit);
        const r = rejects(() => verifyInclusion(leaf, index, changed, proof, tree.root(size)));
        if (r) rejected++;
        else expect(inclusionTrace(index, changed)).toBe(inclusionTrace(index, size));
      }),
      params,
    );
    expect(rejected).toBeGreaterThan(params.numRuns / 2);
  });
});

describe("consistency proofs", () => {
  const sizes = fc
    .integer({ min: 1, max: MAX })
    .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

  it("every generated proof verifies", () => {
    fc.assert(
      fc.property(sizes, ([size1, size2]) => {
        verifyConsistency(size1, size2, tree.consistencyProof(size1, size2), tree.root(size1), tree.root(size2));
      }),
      params,
    );
  });

  it("any single-bit change to a proof hash or either root is rejected", () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.integer({ min: 0, max: 255 }), ([size1, size2], pick, bit) => {
        const proof = tree.consistencyProof(size1, size2);
        const root1 = tree.root(size1);
        const root2 = tree.root(size2);
        const target = pick % (proof.length + 2);
        if (target < proof.length) {
          const bad = proof.slice();
          bad[target] = flipBit(bad[target]!, bit);
          expect(rejects(() => verifyConsistency(size1, size2, bad, root1, root2))).toBe(true);
        } else if (target === proof.length) {
          expect(rejects(() => verifyConsistency(size1, size2, proof, flipBit(root1, bit), root2))).toBe(true);
        } else {
          expect(rejects(() => verifyConsistency(size1, size2, proof, root1, flipBit(root2, bit)))).toBe(true);
        }
      }),
      params,
    );
  });

  it("a single-bit change to either size is rejected unless the verifier's steps are identical", () => {
    let rejected = 0;
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 52 }), fc.boolean(), ([size1, size2], bit, first) => {
        const proof = tree.consistencyProof(size1, size2);
        const s1 = first ? flipNumber(size1, bit) : size1;
        const s2 = first ? size2 : flipNumber(size2, bit);
        const r = rejects(() => verifyConsistency(s1, s2, proof, tree.root(size1), tree.root(size2)));
        if (r) rejected++;
        else expect(consistencyTrace(s1, s2)).toBe(consistencyTrace(size1, size2));
      }),
      params,
    );
    expect(rejected).toBeGreaterThan(params.numRuns / 2);
  });
});
