import { describe, expect, it } from "vitest";
import { checkConsistency, planCheckpoint, type TreeHead } from "../../agent/link/checkpointRules.js";
import { EMPTY_ROOT, MemoryNodeStore, MerkleTree } from "../../shared/log/index.js";

function tree(leaves: string[]): MerkleTree {
  const t = MerkleTree.open(new MemoryNodeStore());
  for (const l of leaves) t.append(new TextEncoder().encode(l));
  return t;
}
const leaves = (n: number, tag = "r") => Array.from({ length: n }, (_, i) => `${tag}${i}`);
const head = (t: MerkleTree, size: number): TreeHead => ({ size, root: t.root(size) });

describe("checkpoint acceptance rules", () => {
  const honest = tree(leaves(20));

  it("accepts the first checkpoint (trust on first use, after its signature was checked)", () => {
    expect(planCheckpoint(undefined, head(honest, 7))).toEqual({ kind: "accept" });
  });

  it("keeps the same tree head as is", () => {
    expect(planCheckpoint(head(honest, 7), head(honest, 7))).toEqual({ kind: "unchanged" });
  });

  it("calls two roots for one size a fork", () => {
    const forked = tree([...leaves(6), "evil"]);
    const plan = planCheckpoint(head(honest, 7), head(forked, 7));
    expect(plan.kind).toBe("inconsistent");
  });

  it("replaces the kept head with a larger one only with a verifying consistency proof", () => {
    const kept = head(honest, 7);
    const next = head(honest, 20);
    const plan = planCheckpoint(kept, next);
    expect(plan).toEqual({ kind: "prove", from: 7, to: 20, replace: true });
    if (plan.kind !== "prove") throw new Error("unreachable");
    expect(checkConsistency(kept, next, plan, honest.consistencyProof(7, 20))).toBeUndefined();
    // A wrong proof (for other sizes) is refused.
    expect(checkConsistency(kept, next, plan, honest.consistencyProof(6, 20))).toMatch(/does not verify/);
  });

  it("refuses a larger head that rewrote history, even with the forked log's own honest proof", () => {
    const kept = head(honest, 7);
    const forked = tree([...leaves(5), "evil", ...leaves(14, "x")]);
    const next = head(forked, 19);
    const plan = planCheckpoint(kept, next);
    if (plan.kind !== "prove") throw new Error(`expected prove, got ${plan.kind}`);
    expect(checkConsistency(kept, next, plan, forked.consistencyProof(7, 19))).toMatch(/does not verify/);
  });

  it("never replaces the kept head with an older one, but proves the older one consistent with it", () => {
    const kept = head(honest, 20);
    const older = head(honest, 7);
    const plan = planCheckpoint(kept, older);
    expect(plan).toEqual({ kind: "prove", from: 7, to: 20, replace: false });
    if (plan.kind !== "prove") throw new Error("unreachable");
    expect(checkConsistency(kept, older, plan, honest.consistencyProof(7, 20))).toBeUndefined();
    const forkedOld = head(tree([...leaves(6), "evil"]), 7);
    expect(checkConsistency(kept, forkedOld, plan, honest.consistencyProof(7, 20))).toMatch(/does not verify/);
  });

  it("handles the empty tree: everything extends it, and its root must be the empty root", () => {
    const empty: TreeHead = { size: 0, root: EMPTY_ROOT };
    expect(planCheckpoint(empty, head(honest, 3))).toEqual({ kind: "accept" });
    expect(planCheckpoint(head(honest, 3), empty)).toEqual({ kind: "unchanged" });
    expect(planCheckpoint(undefined, { size: 0, root: honest.root(1) }).kind).toBe("inconsistent");
  });
});
