import { describe, expect, it } from "vitest";
import { encodeHex } from "../../shared/encoding/hex.js";
import {
  LogError,
  MemoryNodeStore,
  MerkleTree,
  consistencyPlan,
  hashLeaf,
  inclusionPlan,
  planReads,
  verifyConsistency,
  verifyInclusion,
  type AppendBatch,
  type NodeStore,
} from "../../shared/log/index.js";
import { mth, path, proof } from "./rfc6962-reference.js";
import { thrown } from "./thrown.js";

const leafData = (i: number) => new TextEncoder().encode(`leaf ${i}`);
const hex = (hs: Uint8Array[]) => hs.map(encodeHex);

const errorOf = (run: () => unknown): LogError => thrown(LogError, run);

describe("MerkleTree against the RFC 6962 definitions", () => {
  const N = 40;
  const data = Array.from({ length: N }, (_, i) => leafData(i));
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (const d of data) tree.append(d);

  it("roots at every size equal MTH", () => {
    for (let n = 0; n <= N; n++) expect(encodeHex(tree.root(n))).toBe(encodeHex(mth(data.slice(0, n))));
  });

  it("every inclusion proof equals PATH and verifies", () => {
    for (let n = 1; n <= N; n++) {
      const root = tree.root(n);
      for (let m = 0; m < n; m++) {
        const p = tree.inclusionProof(m, n);
        expect(hex(p)).toEqual(hex(path(m, data.slice(0, n))));
        verifyInclusion(hashLeaf(data[m]!), m, n, p, root);
      }
    }
  });

  it("every consistency proof equals PROOF and verifies", () => {
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const p = tree.consistencyProof(m, n);
        expect(hex(p)).toEqual(hex(proof(m, data.slice(0, n))));
        verifyConsistency(m, n, p, tree.root(m), tree.root(n));
      }
    }
  });

  it("reopening a store restores the same tree", () => {
    const store = new MemoryNodeStore();
    const a = MerkleTree.open(store);
    a.appendMany(data.slice(0, 23));
    const b = MerkleTree.open(store);
    expect(b.size).toBe(23);
    expect(encodeHex(b.root())).toBe(encodeHex(mth(data.slice(0, 23))));
    b.append(data[23]!);
    expect(encodeHex(b.root())).toBe(encodeHex(mth(data.slice(0, 24))));
  });

  it("appendMany equals appending one by one", () => {
    const t = MerkleTree.open(new MemoryNodeStore());
    expect(t.appendMany(data.slice(0, 7))).toBe(0);
    expect(t.appendMany(data.slice(7))).toBe(7);
    expect(encodeHex(t.root())).toBe(encodeHex(tree.root()));
  });
});

describe("cost", () => {
  it("appends read nothing; proofs read at most 2·log2 n stored hashes", () => {
    const tree = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 3000; i++) tree.append(leafData(i));
    expect(tree.nodeReads).toBe(0);
    for (const n of [1, 2, 3, 1000, 1023, 1024, 1025, 2047, 3000]) {
      const bound = 2 * Math.ceil(Math.log2(Math.max(n, 2)));
      for (const m of [0, 1, n >> 1, n - 2, n - 1].filter((x) => x >= 0 && x < n)) {
        const before = tree.nodeReads;
        tree.inclusionProof(m, n);
        expect(tree.nodeReads - before).toBe(planReads(inclusionPlan(m, n)));
        expect(tree.nodeReads - before).toBeLessThanOrEqual(bound);
        if (m > 0) {
          const b2 = tree.nodeReads;
          tree.consistencyProof(m, n);
          expect(tree.nodeReads - b2).toBe(planReads(consistencyPlan(m, n)));
          expect(tree.nodeReads - b2).toBeLessThanOrEqual(bound);
        }
      }
    }
  });
});

describe("preconditions and storage failures", () => {
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (let i = 0; i < 5; i++) tree.append(leafData(i));

  it("names the bound that failed", () => {
    expect(errorOf(() => tree.inclusionProof(5)).details).toEqual({ index: 5, size: 5 });
    expect(errorOf(() => tree.inclusionProof(0, 6)).code).toBe("SIZE_OUT_OF_RANGE");
    expect(errorOf(() => tree.consistencyProof(4, 3)).details).toEqual({ size1: 4, size2: 3 });
    expect(errorOf(() => tree.consistencyProof(0, 3)).code).toBe("EMPTY_TREE_CONSISTENCY");
    expect(errorOf(() => tree.root(-1)).code).toBe("INVALID_NUMBER");
    expect(errorOf(() => tree.root(1.5)).code).toBe("INVALID_NUMBER");
  });

  it("a second writer is detected and the tree resynchronises", () => {
    const store = new MemoryNodeStore();
    const a = MerkleTree.open(store);
    const b = MerkleTree.open(store);
    a.append(leafData(0));
    expect(errorOf(() => b.append(leafData(1))).code).toBe("STORE_CONFLICT");
    expect(b.size).toBe(1);
    b.append(leafData(1));
    expect(encodeHex(b.root())).toBe(encodeHex(mth([leafData(0), leafData(1)])));
  });

  it("a failed commit leaves the tree unchanged", () => {
    const inner = new MemoryNodeStore();
    let fail = false;
    const store: NodeStore = {
      size: () => inner.size(),
      getNode: (l, i) => inner.getNode(l, i),
      commit: (batch: AppendBatch) => {
        if (fail) throw new Error("disk full");
        inner.commit(batch);
      },
    };
    const t = MerkleTree.open(store);
    t.append(leafData(0));
    const root = encodeHex(t.root());
    fail = true;
    expect(() => t.append(leafData(1))).toThrow("disk full");
    expect(t.size).toBe(1);
    expect(encodeHex(t.root())).toBe(root);
  });

  it("a store that lost a node says which", () => {
    const inner = new MemoryNodeStore();
    const t = MerkleTree.open(inner);
    for (let i = 0; i < 8; i++) t.append(leafData(i));
    const lossy: NodeStore = {
      size: () => inner.size(),
      getNode: (l, i) => (l === 1 && i === 1 ? undefined : inner.getNode(l, i)),
      commit: (b) => inner.commit(b),
    };
    const err = errorOf(() => MerkleTree.open(lossy).inclusionProof(0));
    expect(err.code).toBe("STORE_MISSING_NODE");
    expect(err.details).toEqual({ level: 1, index: 1 });
  });

  it("the memory store rejects batches that do not follow it", () => {
    const s = new MemoryNodeStore();
    expect(errorOf(() => s.commit({ fromSize: 1, toSize: 2, leaves: [new Uint8Array()], nodes: [] })).code).toBe("STORE_CONFLICT");
    expect(errorOf(() => s.commit({ fromSize: 0, toSize: 1, leaves: [new Uint8Array()], nodes: [{ level: 0, index: 3, hash: new Uint8Array(32) }] })).code).toBe(
      "STORE_CONFLICT",
    );
    expect(s.size()).toBe(0);
  });

  it("returned hashes are copies: mutating them does not corrupt the store", () => {
    const p = tree.inclusionProof(0);
    const before = encodeHex(tree.root(4));
    p[0]!.fill(0);
    tree.leafHash(1).fill(0);
    expect(encodeHex(tree.root(4))).toBe(before);
  });
});

describe("MemoryNodeStore.restoreLeafHashes", () => {
  it("rebuilds from leaf hashes alone the tree that appending the leaves builds", () => {
    const appended = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 37; i++) appended.append(leafData(i));
    const store = new MemoryNodeStore();
    store.restoreLeafHashes(Array.from({ length: 37 }, (_, i) => hashLeaf(leafData(i))));
    const restored = MerkleTree.open(store);
    expect(restored.size).toBe(37);
    expect(encodeHex(restored.root())).toBe(encodeHex(appended.root()));
    expect(hex(restored.inclusionProof(5, 30))).toEqual(hex(appended.inclusionProof(5, 30)));
    // The restored tree keeps growing like any other.
    restored.append(leafData(37));
    appended.append(leafData(37));
    expect(encodeHex(restored.root())).toBe(encodeHex(appended.root()));
  });

  it("refuses to restore into a store that already holds leaves", () => {
    const store = new MemoryNodeStore();
    MerkleTree.open(store).append(leafData(0));
    expect(errorOf(() => store.restoreLeafHashes([hashLeaf(leafData(1))])).code).toBe("STORE_CONFLICT");
    expect(store.size()).toBe(1);
  });
});
