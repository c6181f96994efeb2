/**
 * The soak's verdicts (scripts/soak/logAudit.ts) must see every way a record or a checkpoint can go
 * wrong: a soak whose audit cannot fail would prove nothing. Each case damages a clean log one way
 * and expects exactly that damage to be counted.
 */
import { describe, expect, it } from "vitest";
import { checkCheckpointChain, compareAgentLog, comparisonClean, rootOfEntries, type ConsistencyDocument, type LogEntry } from "../../scripts/soak/logAudit.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { encodeRecord, MemoryNodeStore, MerkleTree, sealRecord, type SealedRecord } from "../../shared/log/index.js";
import { generateSignerKey, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";

const secretKey = new Uint8Array(32).fill(7);
const ORIGIN = "soak.test/fleet/default";

function ledger(agentId: string, n: number): SealedRecord[] {
  return Array.from({ length: n }, (_, seq) => sealRecord({ agentId, seq, kind: "state.digest", timestamp: 1_764_115_200_000 + seq, payloadJson: `{"n":${seq}}` }, secretKey));
}

/** Two agents' records interleaved in one global log, as the edge appends them. */
function interleave(a: readonly SealedRecord[], b: readonly SealedRecord[]): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    for (const r of [a[i], b[i]]) if (r) out.push({ index: out.length, agentId: r.agentId, seq: r.seq, leaf: encodeRecord(r) });
  }
  return out;
}

const A = ledger("ag_a", 12);
const B = ledger("ag_b", 9);
const clean = interleave(A, B);
const reindex = (entries: LogEntry[]) => entries.map((e, index) => ({ ...e, index }));

describe("soak audit: an agent's ledger against the global log", () => {
  it("a faithful log is clean", () => {
    const c = compareAgentLog(clean, "ag_a", A);
    expect(c).toMatchObject({ ledger: 12, global: 12, lost: 0, undelivered: 0, duplicated: 0, reordered: 0, differing: 0, unknown: 0, ledgerOutOfSequence: 0 });
    expect(comparisonClean(c)).toBe(true);
  });

  it("the agent's key entries and agent checkpoints in the log are not records: not compared with its ledger", () => {
    const other = (type: "key" | "agent-checkpoint", index: number): LogEntry => ({ index, type, agentId: "ag_a", seq: -1, leaf: new Uint8Array([3]) });
    const withOthers = reindex([other("key", 0), other("key", 0), ...clean.slice(0, 5), other("agent-checkpoint", 0), ...clean.slice(5)].map((e) => ({ ...e })));
    expect(comparisonClean(compareAgentLog(withOthers, "ag_a", A))).toBe(true);
    // The same entries as records would be damage.
    expect(comparisonClean(compareAgentLog(withOthers.map((e) => ({ ...e, type: "record" as const })), "ag_a", A))).toBe(false);
  });

  it("counts a lost record (a hole before the agent's last entry)", () => {
    const c = compareAgentLog(reindex(clean.filter((e) => !(e.agentId === "ag_a" && e.seq === 5))), "ag_a", A);
    expect(c).toMatchObject({ lost: 1, undelivered: 0 });
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts records never delivered (the ledger's tail beyond the agent's last entry)", () => {
    const c = compareAgentLog(reindex(clean.filter((e) => !(e.agentId === "ag_a" && e.seq >= 10))), "ag_a", A);
    expect(c).toMatchObject({ lost: 0, undelivered: 2 });
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts a record appended twice", () => {
    const again = clean.find((e) => e.agentId === "ag_a" && e.seq === 3)!;
    const c = compareAgentLog([...clean, { ...again, index: clean.length }], "ag_a", A);
    expect(c.duplicated).toBe(1);
    expect(c.reordered).toBe(1); // seq 3 after seq 11
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts records out of per-agent order", () => {
    const swapped = [...clean];
    const i = swapped.findIndex((e) => e.agentId === "ag_a" && e.seq === 4);
    const j = swapped.findIndex((e) => e.agentId === "ag_a" && e.seq === 5);
    [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
    const c = compareAgentLog(reindex(swapped), "ag_a", A);
    expect(c).toMatchObject({ reordered: 1, lost: 0, duplicated: 0, differing: 0 });
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts an entry whose bytes are not the ledger record's", () => {
    const tampered = clean.map((e) => (e.agentId === "ag_b" && e.seq === 2 ? { ...e, leaf: Uint8Array.from(e.leaf, (x, k) => (k === e.leaf.length - 1 ? x ^ 1 : x)) } : e));
    const c = compareAgentLog(tampered, "ag_b", B);
    expect(c.differing).toBe(1);
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts entries the ledger lost (the edge holds more than the agent)", () => {
    const c = compareAgentLog(clean, "ag_a", A.slice(0, 10));
    expect(c).toMatchObject({ unknown: 2, lost: 0 });
    expect(comparisonClean(c)).toBe(false);
  });

  it("counts a ledger that does not start at seq 0 (pruned or damaged)", () => {
    const c = compareAgentLog(clean, "ag_a", A.slice(2));
    expect(c.ledgerOutOfSequence).toBe(10);
    expect(comparisonClean(c)).toBe(false);
  });

  it("the root of the served entries is the tree's root", () => {
    const tree = MerkleTree.open(new MemoryNodeStore());
    tree.appendMany(clean.map((e) => e.leaf));
    expect(rootOfEntries(clean)).toEqual(tree.root());
    expect(rootOfEntries(clean.slice(1))).not.toEqual(tree.root());
  });
});

describe("soak audit: the chain of signed checkpoints", () => {
  const keys = generateSignerKey("soak-edge");
  const signer = parseSignerKey(keys.signerKey);
  const verifier = parseVerifierKey(keys.verifierKey);
  const tree = MerkleTree.open(new MemoryNodeStore());
  tree.appendMany(clean.map((e) => e.leaf));
  const note = (size: number, root = tree.root(size), origin = ORIGIN, by = signer) => signCheckpoint({ origin, size, root }, [by]);
  const proofs = async (from: number, to: number): Promise<ConsistencyDocument> => ({ size1: from, size2: to, proof: tree.consistencyProof(from, to).map(encodeBase64) });

  it("a growing log's checkpoints are proven consistent pair by pair, repeats counted once", async () => {
    const r = await checkCheckpointChain([note(0), note(3), note(3), note(8), note(13), note(21)], verifier, ORIGIN, proofs);
    expect(r).toMatchObject({ offered: 6, distinct: 5, consistent: 4, inconsistent: 0, badSignature: 0, problems: [] });
    expect(r.latest?.size).toBe(21);
  });

  it("refuses a fork: two signed roots for one size", async () => {
    const r = await checkCheckpointChain([note(3), note(8), note(8, tree.root(9))], verifier, ORIGIN, proofs);
    expect(r.inconsistent).toBeGreaterThanOrEqual(1);
    expect(r.problems.join("\n")).toMatch(/fork: two roots for size 8/);
  });

  it("refuses a rewritten history: a larger checkpoint not consistent with the smaller", async () => {
    const other = MerkleTree.open(new MemoryNodeStore());
    other.appendMany(reindex(clean.slice(1)).map((e) => e.leaf));
    const r = await checkCheckpointChain([note(5), note(13, other.root(13))], verifier, ORIGIN, proofs);
    expect(r).toMatchObject({ consistent: 0, inconsistent: 1 });
  });

  it("refuses a proof for other sizes than asked", async () => {
    const r = await checkCheckpointChain([note(5), note(13)], verifier, ORIGIN, async () => proofs(4, 13));
    expect(r).toMatchObject({ consistent: 0, inconsistent: 1 });
  });

  it("refuses a checkpoint signed by another key or for another origin", async () => {
    const stranger = parseSignerKey(generateSignerKey("soak-edge").signerKey);
    const r = await checkCheckpointChain([note(5), note(8, undefined, ORIGIN, stranger), note(13, undefined, "elsewhere/fleet/default")], verifier, ORIGIN, proofs);
    expect(r).toMatchObject({ badSignature: 2, distinct: 1 });
  });

  it("refuses a size-0 checkpoint whose root is not the empty tree's", async () => {
    const r = await checkCheckpointChain([note(0, tree.root(1)), note(4)], verifier, ORIGIN, proofs);
    expect(r).toMatchObject({ consistent: 0, inconsistent: 1 });
  });
});
