import { describe, expect, it } from "vitest";
import { LedgerTree } from "../../agent/ledger/ledgerTree.js";
import { CompactRange } from "../../shared/log/compact-range.js";
import { MemoryNodeStore } from "../../shared/log/node-store.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { MerkleTree } from "../../shared/log/tree.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const leafData = (i: number): Uint8Array => new TextEncoder().encode(`record ${i}`);

describe("ledger tree (bounded Merkle state of the agent log)", () => {
  it("matches the full tree's roots at every durable size and across pending records", () => {
    const reference = MerkleTree.open(new MemoryNodeStore());
    const tree = new LedgerTree(CompactRange.empty(), 8);
    let n = 0;
    // Seal in bursts, commit part of each burst: durable and pending sizes of every shape.
    for (let burst = 1; burst <= 40; burst++) {
      for (let i = 0; i < burst % 7; i++, n++) {
        reference.append(leafData(n));
        tree.seal(hashLeaf(leafData(n)));
      }
      tree.commit(Math.floor((tree.size - tree.durableSize) / 2));
      for (let size = tree.durableSize; size <= tree.size; size++) expect(hex(tree.root(size)), `size ${size}`).toBe(hex(reference.root(size)));
    }
    tree.commit(tree.size - tree.durableSize);
    expect(tree.durableSize).toBe(n);
    expect(hex(tree.root())).toBe(hex(reference.root()));
    expect(() => tree.root(n - 1)).toThrow(RangeError);
    expect(() => tree.root(n + 1)).toThrow(RangeError);
    expect(() => tree.commit(1)).toThrow(RangeError);
  });

  it("continues from a compact range rebuilt elsewhere (the pruned prefix)", () => {
    const reference = MerkleTree.open(new MemoryNodeStore());
    const prefix = CompactRange.empty();
    for (let i = 0; i < 1000; i++) {
      reference.append(leafData(i));
      prefix.append(hashLeaf(leafData(i)));
    }
    const tree = new LedgerTree(prefix);
    for (let i = 1000; i < 1037; i++) {
      reference.append(leafData(i));
      tree.seal(hashLeaf(leafData(i)));
      tree.commit(1);
    }
    expect(hex(tree.root())).toBe(hex(reference.root()));
    // The caller's range is copied, not advanced.
    expect(prefix.size).toBe(1000);
  });

  it("keeps pending leaf hashes and a ring of the newest durable ones, nothing older", () => {
    const tree = new LedgerTree(CompactRange.empty(), 4);
    for (let i = 0; i < 10; i++) tree.seal(hashLeaf(leafData(i)));
    tree.commit(7);
    // Durable 0…6: the ring holds 3…6; 7…9 are pending.
    for (let seq = 0; seq < 10; seq++) {
      const held = tree.leafHash(seq);
      if (seq < 3) expect(held, `seq ${seq}`).toBeUndefined();
      else expect(held && hex(held), `seq ${seq}`).toBe(hex(hashLeaf(leafData(seq))));
    }
    expect(tree.leafHash(10)).toBeUndefined();
    expect(tree.leafHash(-1)).toBeUndefined();
  });
});
