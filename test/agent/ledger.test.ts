import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey, type DeviceKey } from "../../agent/identity/deviceKey.js";
import { Ledger, LedgerError, verifyLedger } from "../../agent/ledger/ledger.js";
import { encodeRecord, recordPayload } from "../../agent/ledger/record.js";
import { RECENT_LEAF_HASHES } from "../../agent/ledger/ledgerTree.js";
import { writePrunedPrefix } from "../../agent/ledger/prunedPrefix.js";
import { CompactRange } from "../../shared/log/compact-range.js";
import { MemoryNodeStore } from "../../shared/log/node-store.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { MerkleTree } from "../../shared/log/tree.js";
import { verifyRecordSignature } from "../../shared/log/record-seal.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bo-ledger-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { dir: string; key: DeviceKey; agentId: string } {
  const data = tempDir();
  const key = loadOrCreateDeviceKey(data);
  return { dir: join(data, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw) };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const segmentFile = (firstSeq: number): string => `seg-${String(firstSeq).padStart(16, "0")}.log`;

function rangeOf(leafHashes: readonly Uint8Array[]): CompactRange {
  const range = CompactRange.empty();
  for (const h of leafHashes) range.append(h);
  return range;
}

/** A closed ledger of 200 records over several 4 KiB segments, nothing pruned; its leaf hashes and root. */
async function unprunedLedger(dir: string, key: DeviceKey, agentId: string): Promise<{ leaves: Buffer[]; root: string; segments: number[] }> {
  const ledger = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
  for (let i = 0; i < 200; i++) ledger.append("memory.signature", { i, pad: "p".repeat(40) });
  await ledger.flush();
  const leaves = (await ledger.readFrom(0, 200)).map((r) => Buffer.from(hashLeaf(encodeRecord(r))));
  const root = hex(ledger.root());
  await ledger.close();
  const segments = readdirSync(dir)
    .filter((n) => n.startsWith("seg-"))
    .sort()
    .map((n) => Number(n.slice(4, 20)));
  expect(segments.length).toBeGreaterThanOrEqual(4);
  return { leaves, root, segments };
}

describe("ledger", () => {
  it("seals signed records, makes them durable in order, and reads them back", async () => {
    const { dir, key, agentId } = setup();
    const ledger = await Ledger.open({ dir, key, agentId, fsyncIntervalMs: 10 });
    const durable: number[] = [];
    ledger.onDurable((n) => durable.push(n));
    for (let i = 0; i < 10; i++) {
      const r = ledger.append("memory.signature", { i });
      expect(r.ok && r.seq).toBe(i);
    }
    expect(ledger.durableCount).toBe(0);
    await ledger.flush();
    expect(ledger.durableCount).toBe(10);
    expect(ledger.lastDurableSeq).toBe(9);
    expect(durable.at(-1)).toBe(10);
    const records = await ledger.readFrom(3, 4);
    expect(records.map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    expect(recordPayload(records[0]!)).toEqual({ i: 3 });
    expect((await ledger.readAfter(8)).map((r) => r.seq)).toEqual([9]);
    // Signed by node:crypto, verified by shared/log's (noble) verifier: the same Ed25519.
    for (const r of records) expect(verifyRecordSignature(r, key.publicKeyRaw)).toBe(true);
    // The agent log's root is the RFC 6962 root over the canonical entries.
    const reference = MerkleTree.open(new MemoryNodeStore());
    for (const r of await ledger.readFrom(0, 100)) reference.append(encodeRecord(r));
    expect(Buffer.from(ledger.root()).toString("hex")).toBe(Buffer.from(reference.root()).toString("hex"));
    await ledger.close();
    expect(() => ledger.append("state.digest", {})).toThrow(LedgerError);
  });

  it("batches fsync by count", async () => {
    const { dir, key, agentId } = setup();
    const ledger = await Ledger.open({ dir, key, agentId, fsyncIntervalMs: 60_000, fsyncEveryRecords: 5 });
    const seen = new Promise<number>((resolve) => ledger.onDurable(resolve));
    for (let i = 0; i < 5; i++) ledger.append("state.digest", { i });
    expect(await seen).toBe(5);
    expect(ledger.stats().fsyncs).toBe(1);
    await ledger.close();
  });

  it("reopens with the same records, root and next seq", async () => {
    const { dir, key, agentId } = setup();
    const a = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    for (let i = 0; i < 200; i++) a.append("witness.report", { i, pad: "p".repeat(40) });
    await a.close();
    const root = Buffer.from(a.root()).toString("hex");
    expect(readdirSync(dir).filter((n) => n.startsWith("seg-")).length).toBeGreaterThan(2);
    const b = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    expect(b.size).toBe(200);
    expect(Buffer.from(b.root()).toString("hex")).toBe(root);
    expect(b.append("state.digest", {}).ok && b.size).toBe(201);
    expect((await b.readFrom(150, 100)).length).toBe(50);
    await b.close();
  });

  it("cuts a torn tail on open and reports it", async () => {
    const { dir, key, agentId } = setup();
    const a = await Ledger.open({ dir, key, agentId });
    for (let i = 0; i < 5; i++) a.append("memory.signature", { i });
    await a.close();
    const seg = join(dir, readdirSync(dir).find((n) => n.startsWith("seg-"))!);
    const good = statSync(seg).size;
    // Half a frame: a length header claiming more bytes than follow.
    appendFileSync(seg, Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 9, 9]));
    expect(verifyLedger(dir, () => true).tornBytes).toBe(10);
    const b = await Ledger.open({ dir, key, agentId });
    expect(b.tornBytesCut).toBe(10);
    expect(b.size).toBe(5);
    expect(statSync(seg).size).toBe(good);
    await b.close();
  });

  it("refuses to open a ledger whose non-last segment is damaged", async () => {
    const { dir, key, agentId } = setup();
    const a = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    for (let i = 0; i < 100; i++) a.append("memory.signature", { i, pad: "q".repeat(60) });
    await a.close();
    const first = join(dir, readdirSync(dir).filter((n) => n.startsWith("seg-")).sort()[0]!);
    const bytes = readFileSync(first);
    bytes[20] = bytes[20]! ^ 0xff;
    writeFileSync(first, bytes);
    await expect(Ledger.open({ dir, key, agentId, segmentBytes: 4096 })).rejects.toMatchObject({ code: "ledger_corrupt" });
    const v = verifyLedger(dir, () => true);
    expect(v.ok).toBe(false);
  });

  it("verifyLedger catches a forged signature", async () => {
    const { dir, key, agentId } = setup();
    const a = await Ledger.open({ dir, key, agentId });
    a.append("memory.signature", { i: 1 });
    await a.close();
    const other = loadOrCreateDeviceKey(tempDir());
    expect(verifyLedger(dir, (r) => verifyRecordSignature(r, key.publicKeyRaw)).ok).toBe(true);
    const forged = verifyLedger(dir, (r) => verifyRecordSignature(r, other.publicKeyRaw));
    expect(forged.ok).toBe(false);
    expect(forged.problems[0]).toMatch(/signature/);
  });

  it("prunes acknowledged segments and keeps the tree whole through the pruned prefix", async () => {
    const { dir, key, agentId } = setup();
    const opts = { dir, key, agentId, segmentBytes: 4096, retainAckedBytes: 8192, maxBytes: 1 << 20 };
    const a = await Ledger.open(opts);
    for (let i = 0; i < 300; i++) a.append("memory.signature", { i, pad: "r".repeat(50) });
    await a.flush();
    // The reference tree over every record, read back before any is pruned.
    const reference = MerkleTree.open(new MemoryNodeStore());
    for (const r of await a.readFrom(0, 300)) reference.append(encodeRecord(r));
    a.acknowledge(250);
    await a.flush();
    a.append("state.digest", { last: true });
    await a.flush();
    // Kept: up to retainAckedBytes of acknowledged segments, plus the unacknowledged ones.
    expect(a.stats().bytesOnDisk).toBeLessThanOrEqual(16_384);
    await expect(a.readFrom(0)).rejects.toMatchObject({ code: "ledger_records_pruned" });
    expect((await a.readFrom(260, 10)).map((r) => r.seq)[0]).toBe(260);
    reference.append(encodeRecord((await a.readFrom(300, 1))[0]!));
    const root = hex(reference.root());
    expect(hex(a.root())).toBe(root);
    await a.close();
    // What is left of the pruned records: one small file, a compact range (no per-record data).
    expect(readdirSync(dir)).toContain("pruned.range");
    expect(readdirSync(dir)).not.toContain("leaves.bin");
    expect(statSync(join(dir, "pruned.range")).size).toBeLessThan(8 + 8 + 9 * 32);
    const b = await Ledger.open(opts);
    expect(b.size).toBe(301);
    expect(b.ackedCount).toBe(250);
    expect(hex(b.root())).toBe(root);
    const check = verifyLedger(dir, (r) => verifyRecordSignature(r, key.publicKeyRaw), { rootsAt: [290, 300, 301, 10] });
    expect(check.ok).toBe(true);
    expect(hex(check.root!)).toBe(root);
    expect(hex(check.roots.get(290)!)).toBe(hex(reference.root(290)));
    expect(hex(check.roots.get(300)!)).toBe(hex(reference.root(300)));
    // Roots inside the pruned prefix are gone with its records.
    expect(check.roots.has(10)).toBe(false);
    await b.close();
  });

  it("gives roots from the durable size up to the pending records, and no earlier ones", async () => {
    const { dir, key, agentId } = setup();
    const ledger = await Ledger.open({ dir, key, agentId, fsyncIntervalMs: 60_000, fsyncEveryRecords: 1000 });
    for (let i = 0; i < 5; i++) ledger.append("state.digest", { i });
    await ledger.flush();
    for (let i = 5; i < 9; i++) ledger.append("state.digest", { i });
    expect(ledger.durableCount).toBe(5);
    const pendingRoot7 = hex(ledger.root(7));
    const pendingRoot9 = hex(ledger.root(9));
    await ledger.flush();
    const reference = MerkleTree.open(new MemoryNodeStore());
    for (const r of await ledger.readFrom(0, 9)) reference.append(encodeRecord(r));
    expect(hex(ledger.root())).toBe(hex(reference.root()));
    expect(pendingRoot9).toBe(hex(reference.root(9)));
    expect(pendingRoot7).toBe(hex(reference.root(7)));
    expect(() => ledger.root(4)).toThrow(RangeError);
    expect(() => ledger.root(10)).toThrow(RangeError);
    await ledger.close();
  });

  it("serves leaf hashes from memory for recent records and from the segments for older ones, until pruned", async () => {
    const { dir, key, agentId } = setup();
    const opts = { dir, key, agentId, segmentBytes: 64 * 1024, retainAckedBytes: 256 * 1024, maxBytes: 4 << 20 };
    const ledger = await Ledger.open(opts);
    // More records than the in-memory ring of recent leaf hashes holds.
    const total = RECENT_LEAF_HASHES + 300;
    for (let i = 0; i < total; i++) ledger.append("state.digest", { i });
    await ledger.flush();
    const pending = ledger.append("state.digest", { pending: true });
    const expected = async (seq: number) => hex(hashLeaf(encodeRecord((await ledger.readFrom(seq, 1))[0]!)));
    for (const seq of [0, 1, 299, 300, total - 1]) expect(hex(await ledger.leafHash(seq)), `seq ${seq}`).toBe(await expected(seq));
    if (!pending.ok) throw new Error(pending.message);
    expect(hex(await ledger.leafHash(pending.seq))).toBe(hex(hashLeaf(encodeRecord(pending.record))));
    await expect(ledger.leafHash(total + 1)).rejects.toThrow(RangeError);
    ledger.acknowledge(total);
    await ledger.flush();
    expect(ledger.stats().bytesOnDisk).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    await expect(ledger.leafHash(0)).rejects.toMatchObject({ code: "ledger_records_pruned" });
    expect(hex(await ledger.leafHash(total - 1))).toBe(await expected(total - 1));
    await ledger.close();
  });

  it("finishes a prune a crash interrupted: deletes segments the pruned prefix already covers", async () => {
    const { dir, key, agentId } = setup();
    const { leaves, root, segments } = await unprunedLedger(dir, key, agentId);
    // Step one of a prune (pruned.range at the second segment's start) done, step two (unlink) not.
    writePrunedPrefix(dir, rangeOf(leaves.slice(0, segments[1]!)));
    const check = verifyLedger(dir, () => true);
    expect(check.problems).toEqual([]);
    expect(hex(check.root!)).toBe(root);
    const ledger = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    expect(hex(ledger.root())).toBe(root);
    expect(ledger.size).toBe(leaves.length);
    await expect(ledger.readFrom(0)).rejects.toMatchObject({ code: "ledger_records_pruned" });
    await ledger.close();
    expect(readdirSync(dir).filter((n) => n.startsWith("seg-"))).toHaveLength(segments.length - 1);
  });

  it("migrates a legacy leaves.bin to pruned.range without reading it into memory whole", async () => {
    const { dir, key, agentId } = setup();
    const { leaves, root, segments } = await unprunedLedger(dir, key, agentId);
    // What the previous version left after pruning two segments: their leaf hashes, one per record
    // (here a few more, as a crash between its fsync and the unlink left them).
    rmSync(join(dir, segmentFile(segments[0]!)));
    rmSync(join(dir, segmentFile(segments[1]!)));
    writeFileSync(join(dir, "leaves.bin"), Buffer.concat(leaves.slice(0, segments[2]! + 3)));
    expect(verifyLedger(dir, () => true).problems).toEqual([]);
    const ledger = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    expect(hex(ledger.root())).toBe(root);
    await ledger.close();
    expect(readdirSync(dir)).not.toContain("leaves.bin");
    expect(readdirSync(dir)).toContain("pruned.range");
    const reopened = await Ledger.open({ dir, key, agentId, segmentBytes: 4096 });
    expect(hex(reopened.root())).toBe(root);
    await reopened.close();
  });

  it("refuses to open when the pruned prefix is damaged or does not reach the first segment", async () => {
    const { dir, key, agentId } = setup();
    const { leaves, segments } = await unprunedLedger(dir, key, agentId);
    rmSync(join(dir, segmentFile(segments[0]!)));
    // No record of what was pruned: the root over the whole log cannot be known.
    await expect(Ledger.open({ dir, key, agentId })).rejects.toMatchObject({ code: "ledger_corrupt" });
    expect(verifyLedger(dir, () => true).root).toBeNull();
    // A prefix that stops short of the first segment.
    writePrunedPrefix(dir, rangeOf(leaves.slice(0, segments[1]! - 1)));
    await expect(Ledger.open({ dir, key, agentId })).rejects.toThrow(/pruned prefix/);
    // A flipped bit in pruned.range fails its checksum.
    writePrunedPrefix(dir, rangeOf(leaves.slice(0, segments[1]!)));
    const bytes = readFileSync(join(dir, "pruned.range"));
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(join(dir, "pruned.range"), bytes);
    await expect(Ledger.open({ dir, key, agentId })).rejects.toThrow(/pruned\.range is damaged/);
    const check = verifyLedger(dir, () => true);
    expect(check.ok).toBe(false);
    expect(check.root).toBeNull();
  });

  it("writes the acknowledgement mark on its own timer, not with record flushes, and on close", async () => {
    const mark = (dir: string) => {
      try {
        return (JSON.parse(readFileSync(join(dir, "acked.json"), "utf8")) as { ackedCount: number }).ackedCount;
      } catch {
        return undefined;
      }
    };
    // An interval the test never reaches: record flushes alone must not write the mark.
    const a = setup();
    const slow = await Ledger.open({ dir: a.dir, key: a.key, agentId: a.agentId, fsyncIntervalMs: 5, ackPersistIntervalMs: 600_000 });
    for (let i = 0; i < 5; i++) slow.append("memory.signature", { i });
    await slow.flush();
    slow.acknowledge(2);
    slow.acknowledge(3);
    slow.append("memory.signature", { i: 5 });
    await expect.poll(() => slow.durableCount, { timeout: 2000, interval: 5 }).toBe(6);
    expect(mark(a.dir)).toBeUndefined();
    slow.acknowledge(6);
    await slow.close();
    expect(mark(a.dir)).toBe(6);
    expect(readdirSync(a.dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const reopened = await Ledger.open({ dir: a.dir, key: a.key, agentId: a.agentId });
    expect(reopened.ackedCount).toBe(6);
    await reopened.close();

    // A short interval: the timer writes it without any flush or close.
    const b = setup();
    const quick = await Ledger.open({ dir: b.dir, key: b.key, agentId: b.agentId, ackPersistIntervalMs: 20 });
    for (let i = 0; i < 4; i++) quick.append("memory.signature", { i });
    await quick.flush();
    quick.acknowledge(4);
    await expect.poll(() => mark(b.dir), { timeout: 5000, interval: 10 }).toBe(4);
    await quick.close();
  });

  it("bounds disk use: refuses non-critical records at maxBytes, critical ones past the reserve", async () => {
    const { dir, key, agentId } = setup();
    const ledger = await Ledger.open({ dir, key, agentId, maxBytes: 20_000, retainAckedBytes: 4096, criticalReserveBytes: 5_000, segmentBytes: 4096 });
    const big = { pad: "z".repeat(900) };
    let digests = 0;
    while (ledger.append("state.digest", big).ok) digests++;
    expect(digests).toBeGreaterThan(10);
    const refused = ledger.append("witness.report", big);
    expect(refused).toMatchObject({ ok: false, code: "ledger_full" });
    let critical = 0;
    while (ledger.append("sync.collapse", big).ok) critical++;
    expect(critical).toBeGreaterThan(2);
    expect(ledger.stats().refused).toBe(3);
    // Acknowledging lets retention free space (all but the open segment).
    await ledger.flush();
    ledger.acknowledge(ledger.durableCount);
    await ledger.flush();
    expect(ledger.append("state.digest", big).ok).toBe(true);
    await ledger.close();
  });

  it("bounds what waits in memory for the disk: past maxPendingBytes every kind is refused until written", async () => {
    const { dir, key, agentId } = setup();
    // Nothing flushes on its own here, as when every write fails: records only pile up in memory.
    const ledger = await Ledger.open({ dir, key, agentId, fsyncIntervalMs: 60_000, fsyncEveryRecords: 100_000, maxPendingBytes: 10_000 });
    const big = { pad: "m".repeat(900) };
    let sealed = 0;
    while (ledger.append("state.digest", big).ok) sealed++;
    expect(sealed).toBeGreaterThanOrEqual(9);
    expect(sealed).toBeLessThanOrEqual(11);
    expect(ledger.append("sync.collapse", big)).toMatchObject({ ok: false, code: "ledger_backlog" });
    expect(ledger.stats()).toMatchObject({ pendingRecords: sealed, refused: 2 });
    await ledger.flush();
    expect(ledger.append("sync.collapse", big).ok).toBe(true);
    await ledger.close();
  });

  it("refuses a ledger that belongs to another agent", async () => {
    const { dir, key, agentId } = setup();
    const a = await Ledger.open({ dir, key, agentId });
    a.append("state.digest", {});
    await a.close();
    await expect(Ledger.open({ dir, key, agentId: "ag_" + "0".repeat(32) })).rejects.toMatchObject({ code: "ledger_agent_mismatch" });
  });
});
