/**
 * The agent's audit of the edge's log against an adversarial edge: a small HTTP server (standing in
 * for a compromised coordinator, which the real Worker cannot be made into) serves proofs from a
 * tree it can swap for a forked one, and signs checkpoints with the pinned key.
 */
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tempDir.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EDGE_CHECKPOINT_FILE } from "../../agent/link/checkpointStore.js";
import { LogAuditor } from "../../agent/link/logAuditor.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { consistencyProofDocument, inclusionProofDocument, MemoryNodeStore, MerkleTree } from "../../shared/log/index.js";
import { generateSignerKey, parseSignerKey } from "../../shared/note/index.js";
import { logReportSchema } from "../../shared/protocol/messages.js";

const ORIGIN = "test.local/fleet/default";
const enc = (s: string) => new TextEncoder().encode(s);
function tree(leaves: string[]): MerkleTree {
  const t = MerkleTree.open(new MemoryNodeStore());
  for (const l of leaves) t.append(enc(l));
  return t;
}
const leaves = (n: number, tag = "r") => Array.from({ length: n }, (_, i) => `${tag}${i}`);

const keys = generateSignerKey("test-edge");
const signer = parseSignerKey(keys.signerKey);
const other = parseSignerKey(generateSignerKey("test-edge").signerKey);
const note = (t: MerkleTree, size: number, s = signer, origin = ORIGIN) => signCheckpoint({ origin, size, root: t.root(size) }, [s]);

const honest = tree(leaves(40));
let served = honest;
/** Whether the server has the batch route (an older edge does not), and a leaf it leaves out of batches. */
let batchRoute = true;
let batchOmits = -1;
let batchRequests = 0;
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    const q = (k: string) => Number(u.searchParams.get(k));
    try {
      let body: unknown;
      if (u.pathname === "/v1/log/proof/consistency") {
        const from = q("from");
        const to = q("to");
        body = consistencyProofDocument(from, to, served.consistencyProof(from, to), served.root(from), served.root(to));
      } else if (u.pathname === "/v1/log/proof/inclusion") {
        const index = q("index");
        const size = q("size");
        body = inclusionProofDocument(served.leafHash(index), index, size, served.inclusionProof(index, size), served.root(size));
      } else if (u.pathname === "/v1/log/proof/inclusions" && batchRoute) {
        const size = q("size");
        const indices = (u.searchParams.get("indices") ?? "").split(",").map(Number);
        const proofs = indices
          .filter((index) => index !== batchOmits)
          .map((index) => inclusionProofDocument(served.leafHash(index), index, size, served.inclusionProof(index, size), served.root(size)));
        body = { treeSize: size, proofs };
        batchRequests++;
      } else {
        res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { code: "not_found", message: "no" } }));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    } catch (err) {
      res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { code: "bad_proof_request", message: (err as Error).message } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function auditor(
  dataDir: string,
  lines: { level: string; msg: string; data?: Record<string, unknown> }[],
  leafHash: (seq: number) => Promise<Uint8Array> = async (seq) => honest.leafHash(seq),
) {
  let origin: string | null = null;
  return new LogAuditor({
    dataDir,
    edgeUrl: base,
    verifierKey: () => keys.verifierKey,
    origin: () => origin,
    pinOrigin: (o) => (origin = o),
    // The agent's own records are leaves 0…39 of the honest log, seq = index.
    leafHash,
    log: (level, msg, data) => lines.push({ level, msg, ...(data ? { data } : {}) }),
    roundIntervalMs: 1,
  });
}

describe.each([
  { edge: "with the batch inclusion route", batch: true },
  { edge: "against an older edge (one proof per record)", batch: false },
])("log auditor $edge", ({ batch }) => {
  beforeEach(() => {
    batchRoute = batch;
    batchOmits = -1;
    batchRequests = 0;
  });

  it("accepts an honest log's checkpoints, proves its growth, and verifies its own records' inclusion", async () => {
    served = honest;
    const dir = tempDir("link-audit-");
    const lines: { level: string; msg: string }[] = [];
    const a = auditor(dir, lines);
    a.offer(note(honest, 5));
    await a.runRound();
    expect(a.stats()).toMatchObject({ checkpointsAccepted: 1, checkpointSize: 5, inconsistent: false });
    a.offer(note(honest, 12));
    await a.runRound();
    expect(a.stats()).toMatchObject({ checkpointsAccepted: 2, checkpointSize: 12 });
    for (const seq of [0, 3, 11, 15]) a.acknowledged(seq, seq);
    await a.runRound();
    // 15 is beyond the kept size: it waits for a later checkpoint.
    expect(a.stats()).toMatchObject({ inclusionVerified: 3, inclusionFailed: 0, inclusionPending: 1 });
    a.offer(note(honest, 16));
    await a.runRound();
    expect(a.stats()).toMatchObject({ checkpointSize: 16, inclusionVerified: 4, inclusionPending: 0 });
    // One request per round for all the proofs that round checks.
    expect(batchRequests).toBe(batch ? 2 : 0);
    expect(readFileSync(join(dir, EDGE_CHECKPOINT_FILE), "utf8")).toBe(note(honest, 16));
    // An older (cached) checkpoint is checked but does not replace the kept one.
    a.offer(note(honest, 9));
    await a.runRound();
    expect(a.stats()).toMatchObject({ checkpointSize: 16, inconsistent: false });
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    // A restarted agent starts from the checkpoint kept on disk.
    expect(auditor(dir, []).keptSize).toBe(16);
  });

  it("skips, without calling it an inconsistency, a record whose leaf hash the ledger no longer has", async () => {
    served = honest;
    const dir = tempDir("link-audit-");
    const lines: { level: string; msg: string }[] = [];
    const a = auditor(dir, lines, async (seq) => {
      if (seq === 2) throw new Error("record 2 was pruned");
      return honest.leafHash(seq);
    });
    a.offer(note(honest, 8));
    await a.runRound();
    for (const seq of [1, 2, 3]) a.acknowledged(seq, seq);
    await a.runRound();
    expect(a.stats()).toMatchObject({ inclusionVerified: 2, inclusionSkipped: 1, inclusionFailed: 0, inclusionPending: 0, inconsistent: false });
    expect(lines.some((l) => l.level === "warn" && /leaf hash is gone/.test(l.msg))).toBe(true);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("refuses a forked log loudly and keeps the last good checkpoint on disk", async () => {
    served = honest;
    const dir = tempDir("link-audit-");
    const lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
    const a = auditor(dir, lines);
    a.offer(note(honest, 10));
    await a.runRound();
    const kept = readFileSync(join(dir, EDGE_CHECKPOINT_FILE), "utf8");
    // The edge rewrites record 7 and signs the new history with the same key.
    const forked = tree([...leaves(7), "evil", ...leaves(30, "x")]);
    served = forked;
    a.offer(note(forked, 20));
    await a.runRound();
    expect(a.stats()).toMatchObject({ inconsistent: true, checkpointSize: 10, checkpointsRejected: 1 });
    expect(readFileSync(join(dir, EDGE_CHECKPOINT_FILE), "utf8")).toBe(kept);
    expect(lines.some((l) => l.level === "error" && /INCONSISTENT/.test(l.msg))).toBe(true);
    // What the link sends the edge (log_report): the kept and the refused signed checkpoints.
    const report = a.report();
    expect(report).toMatchObject({ kind: "consistency", evidence: { keptSize: 10, keptNote: kept, size: 20, note: note(forked, 20) } });
    expect(logReportSchema.safeParse({ v: 1, type: "log_report", lamport: 1, ...report }).success).toBe(true);
    // Same size, different root: a fork without any proof needed.
    a.offer(note(forked, 10));
    await a.runRound();
    expect(a.stats().checkpointsRejected).toBe(2);
    expect(readFileSync(join(dir, EDGE_CHECKPOINT_FILE), "utf8")).toBe(kept);
  });

  it("refuses checkpoints signed by another key or for another origin, without replacing the kept one", async () => {
    served = honest;
    const dir = tempDir("link-audit-");
    const lines: { level: string; msg: string }[] = [];
    const a = auditor(dir, lines);
    a.offer(note(honest, 4));
    await a.runRound();
    a.offer(note(honest, 30, other));
    await a.runRound();
    a.offer(note(honest, 30, signer, "elsewhere.example/log"));
    await a.runRound();
    expect(a.stats()).toMatchObject({ checkpointSize: 4, checkpointsRejected: 2, inconsistent: false });
    expect(lines.filter((l) => l.level === "error")).toHaveLength(2);
  });

  it("reports an acknowledged record that the signed log does not contain", async () => {
    served = honest;
    const dir = tempDir("link-audit-");
    const lines: { level: string; msg: string }[] = [];
    const a = auditor(dir, lines);
    a.offer(note(honest, 20));
    await a.runRound();
    // The edge acknowledged seq 5 at index 6: the leaf there is not the agent's record.
    a.acknowledged(5, 6);
    await a.runRound();
    expect(a.stats()).toMatchObject({ inclusionFailed: 1, inconsistent: true });
    expect(lines.some((l) => l.level === "error" && /not proven/.test(l.msg))).toBe(true);
    expect(a.report()).toMatchObject({ kind: "inclusion", evidence: { keptSize: 20, seq: 5, index: 6 } });
  });
});

describe("log auditor batches", () => {
  it("reports a record whose proof the edge leaves out of a batch", async () => {
    batchRoute = true;
    batchOmits = -1;
    served = honest;
    const lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
    const a = auditor(tempDir("link-audit-"), lines);
    a.offer(note(honest, 20));
    await a.runRound();
    batchOmits = 4;
    for (const seq of [3, 4, 5]) a.acknowledged(seq, seq);
    await a.runRound();
    expect(a.stats()).toMatchObject({ inclusionVerified: 2, inclusionFailed: 1, inclusionPending: 0, inconsistent: true });
    expect(lines.find((l) => /not proven/.test(l.msg))?.data).toMatchObject({ seq: 4, reason: expect.stringMatching(/left it out/) });
  });
});
