import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { open, rename, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { DeviceKey } from "../identity/deviceKey.js";
import { fsyncDirectory } from "../storage/durableFile.js";
import { decodeFrames, encodeFrame } from "./frame.js";
import { MerkleTree } from "../../shared/log/tree.js";
import { MemoryNodeStore } from "../../shared/log/node-store.js";
import { CRITICAL_KINDS, encodeRecord, parseSealedRecord, sealRecord, type JsonValue, type RecordKind, type SealedRecord } from "./record.js";

export class LedgerError extends Error {
  override readonly name = "LedgerError";
  constructor(
    readonly code: "ledger_corrupt" | "ledger_closed" | "ledger_records_pruned" | "ledger_bad_options" | "ledger_agent_mismatch",
    message: string,
  ) {
    super(message);
  }
}

export interface LedgerOptions {
  /** Directory of the ledger's files (created if missing). */
  readonly dir: string;
  /** The device key that signs every record. */
  readonly key: DeviceKey;
  /** The agent id written into every record (printable ASCII, e.g. `ag_…`). */
  readonly agentId: string;
  /** Write + fsync pending records at least this often; default 200 ms. */
  readonly fsyncIntervalMs?: number;
  /** The edge's acknowledgement mark (acked.json) is written at most this often, ms; default 5000. */
  readonly ackPersistIntervalMs?: number;
  /** …or as soon as this many records are pending; default 64. */
  readonly fsyncEveryRecords?: number;
  /** Start a new segment file past this size; default 1 MiB. */
  readonly segmentBytes?: number;
  /** Acknowledged segments are kept for local audit while the ledger is under this size; default min(8 MiB, maxBytes/2). */
  readonly retainAckedBytes?: number;
  /** Non-critical records are refused once the ledger (disk + pending) reaches this; default 64 MiB. */
  readonly maxBytes?: number;
  /** Extra room for critical records past maxBytes; default maxBytes / 8. */
  readonly criticalReserveBytes?: number;
  /** UTC epoch ms; default Date.now. */
  readonly now?: () => number;
}

export type AppendResult =
  | { readonly ok: true; readonly seq: number; readonly record: SealedRecord }
  | { readonly ok: false; readonly code: "ledger_full"; readonly message: string };

export interface LedgerStats {
  /** Records sealed (durable or pending): the next seq. */
  readonly size: number;
  /** Records written and fsynced: seqs 0 … durableCount − 1 survive any crash. */
  readonly durableCount: number;
  /** Records the edge has acknowledged: seqs 0 … ackedCount − 1. */
  readonly ackedCount: number;
  readonly pendingRecords: number;
  readonly bytesOnDisk: number;
  readonly segments: number;
  readonly fsyncs: number;
  readonly refused: number;
  /** Bytes of torn tail cut when the ledger was opened. */
  readonly tornBytesCut: number;
  readonly writeErrors: number;
}

interface Segment {
  /** Seq of the segment's first record (also in its file name). */
  readonly firstSeq: number;
  readonly path: string;
  /** Byte offset of each durable record, index = seq − firstSeq. */
  readonly offsets: number[];
  bytes: number;
}

interface Pending {
  readonly seq: number;
  readonly frame: Buffer;
}

const SEGMENT_PATTERN = /^seg-(\d{16})\.log$/;
export const LEAF_CACHE_FILE = "leaves.bin";
const ACKED_FILE = "acked.json";

function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, "0")}.log`;
}

/**
 * The agent's append-only, crash-safe local ledger.
 *
 * - `append` signs the record, adds its leaf to the Merkle log and queues it; it never touches the
 *   disk, so the token clock never waits on the SD card.
 * - A background flush writes queued frames in order and fsyncs them in batches (by time or
 *   count); `durableCount` then advances and `onDurable` listeners run. Only durable records are
 *   handed to the edge link (`readFrom`), so the edge never holds a record a crash could undo.
 * - Segment files hold length+CRC framed records; on open, a torn tail of the last segment is cut.
 */
export class Ledger {
  readonly dir: string;
  readonly agentId: string;
  readonly tornBytesCut: number;
  private readonly key: DeviceKey;
  private readonly opts: Required<Omit<LedgerOptions, "key" | "dir" | "agentId">>;
  private readonly segments: Segment[];
  private readonly merkle: MerkleTree;
  private current: { seg: Segment; fh: FileHandle } | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private sizeValue: number;
  private durableValue: number;
  private ackedValue: number;
  private ackedPersisted: number;
  private leafCacheCount: number;
  private fsyncs = 0;
  private refused = 0;
  private writeErrors = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private ackWrite: Promise<void> | undefined;
  private closed = false;
  private readonly listeners = new Set<(durableCount: number) => void>();

  private constructor(options: LedgerOptions, opts: Ledger["opts"], state: RecoveredLedger) {
    this.dir = options.dir;
    this.agentId = options.agentId;
    this.key = options.key;
    this.opts = opts;
    this.segments = state.segments;
    this.merkle = state.merkle;
    this.sizeValue = state.size;
    this.durableValue = state.size;
    this.ackedValue = state.ackedCount;
    this.ackedPersisted = state.ackedCount;
    this.leafCacheCount = state.leafCacheCount;
    this.tornBytesCut = state.tornBytesCut;
  }

  /** Opens (or creates) the ledger in `options.dir`, cutting a torn tail. */
  static async open(options: LedgerOptions): Promise<Ledger> {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    const opts = {
      fsyncIntervalMs: options.fsyncIntervalMs ?? 200,
      ackPersistIntervalMs: options.ackPersistIntervalMs ?? 5000,
      fsyncEveryRecords: options.fsyncEveryRecords ?? 64,
      segmentBytes: options.segmentBytes ?? 1024 * 1024,
      retainAckedBytes: options.retainAckedBytes ?? Math.min(8 * 1024 * 1024, Math.floor(maxBytes / 2)),
      maxBytes,
      criticalReserveBytes: options.criticalReserveBytes ?? Math.floor(maxBytes / 8),
      now: options.now ?? Date.now,
    };
    if (opts.retainAckedBytes >= opts.maxBytes) {
      throw new LedgerError("ledger_bad_options", `retainAckedBytes (${opts.retainAckedBytes}) must be below maxBytes (${opts.maxBytes})`);
    }
    if (!(opts.fsyncIntervalMs > 0) || !(opts.fsyncEveryRecords >= 1) || !(opts.segmentBytes >= 4096)) {
      throw new LedgerError("ledger_bad_options", `need fsyncIntervalMs > 0 (${opts.fsyncIntervalMs}), fsyncEveryRecords ≥ 1 (${opts.fsyncEveryRecords}), segmentBytes ≥ 4096 (${opts.segmentBytes})`);
    }
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const state = recoverLedger(options.dir, { cutTornTail: true });
    const foreign = state.firstAgentId;
    if (foreign !== undefined && foreign !== options.agentId) {
      throw new LedgerError("ledger_agent_mismatch", `ledger in ${options.dir} belongs to ${foreign}, not ${options.agentId}`);
    }
    const ledger = new Ledger(options, opts, state);
    await ledger.openCurrentSegment();
    return ledger;
  }

  /** Records sealed so far (durable or pending); the seq of the next record. */
  get size(): number {
    return this.sizeValue;
  }
  /** Records fsynced: seq 0 … durableCount − 1. */
  get durableCount(): number {
    return this.durableValue;
  }
  /** Seq of the last fsynced record, −1 when none. */
  get lastDurableSeq(): number {
    return this.durableValue - 1;
  }
  /** Records acknowledged by the edge: seq 0 … ackedCount − 1. */
  get ackedCount(): number {
    return this.ackedValue;
  }

  /** Root of the agent's Merkle log over the first `size` records (default: the durable ones). */
  root(size: number = this.durableValue): Uint8Array {
    return this.merkle.root(size);
  }

  leafHash(seq: number): Uint8Array {
    return this.merkle.leafHash(seq);
  }

  /** Runs `listener(durableCount)` each time a batch becomes durable. Returns an unsubscribe function. */
  onDurable(listener: (durableCount: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Seals a record: assigns the next seq, signs it, appends its leaf to the Merkle log and queues
   * it for the disk. Refused (not thrown) when the disk budget is spent; see docs/agent.md.
   */
  append(kind: RecordKind, payload: JsonValue): AppendResult {
    if (this.closed) throw new LedgerError("ledger_closed", "ledger is closed");
    const used = this.bytesOnDisk() + this.pendingBytes;
    const limit = CRITICAL_KINDS.has(kind) ? this.opts.maxBytes + this.opts.criticalReserveBytes : this.opts.maxBytes;
    if (used >= limit) {
      this.refused++;
      return { ok: false, code: "ledger_full", message: `ledger holds ${used} bytes, the limit for ${kind} is ${limit}; waiting for the edge to acknowledge` };
    }
    const seq = this.sizeValue;
    const { record, leaf } = sealRecord(
      { agentId: this.agentId, seq, kind, timestamp: Math.floor(this.opts.now()), payloadJson: JSON.stringify(payload) },
      this.key.sign,
    );
    const frame = encodeFrame(leaf);
    this.merkle.append(leaf);
    this.sizeValue = seq + 1;
    this.pending.push({ seq, frame });
    this.pendingBytes += frame.length;
    this.scheduleFlush(this.pending.length >= this.opts.fsyncEveryRecords ? 0 : this.opts.fsyncIntervalMs);
    return { ok: true, seq, record };
  }

  /** Writes and fsyncs everything appended so far, and writes the acknowledgement mark. */
  async flush(): Promise<void> {
    await this.flushRecords();
    await this.persistAcked();
  }

  private async flushRecords(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    if (this.pending.length > 0) await this.flushRecords();
  }

  /**
   * Durable records with seq ≥ `fromSeq`, in order, at most `limit`. Throws `ledger_records_pruned`
   * when some of them were deleted by retention (only acknowledged records ever are).
   */
  async readFrom(fromSeq: number, limit = 64): Promise<SealedRecord[]> {
    const to = Math.min(this.durableValue, fromSeq + limit) - 1;
    if (fromSeq > to) return [];
    const first = this.segments[0];
    if (!first || fromSeq < first.firstSeq) {
      throw new LedgerError("ledger_records_pruned", `records from seq ${fromSeq} were pruned (oldest kept is ${first?.firstSeq ?? this.durableValue})`);
    }
    const out: SealedRecord[] = [];
    for (const seg of this.segments) {
      const segLast = seg.firstSeq + seg.offsets.length - 1;
      if (segLast < fromSeq || seg.firstSeq > to) continue;
      const lo = Math.max(fromSeq, seg.firstSeq);
      const hi = Math.min(to, segLast);
      const start = seg.offsets[lo - seg.firstSeq]!;
      const end = hi === segLast ? seg.bytes : seg.offsets[hi + 1 - seg.firstSeq]!;
      const fh = await open(seg.path, "r");
      try {
        const buf = Buffer.alloc(end - start);
        await fh.read(buf, 0, buf.length, start);
        for (const { payload } of decodeFrames(buf).frames) {
          const record = parseSealedRecord(payload);
          if (typeof record === "string") throw new LedgerError("ledger_corrupt", `${seg.path}: ${record}`);
          out.push(record);
        }
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  /** Durable records after seq `afterSeq` (−1 for all), in order: `readFrom(afterSeq + 1)`. */
  readAfter(afterSeq: number, limit = 64): Promise<SealedRecord[]> {
    return this.readFrom(afterSeq + 1, limit);
  }

  /** The edge holds every record with seq < `nextSeq` (its `ack.nextSeq`); enables retention. */
  acknowledge(nextSeq: number): void {
    if (!Number.isSafeInteger(nextSeq) || nextSeq < 0) throw new RangeError(`nextSeq must be a non-negative integer, got ${nextSeq}`);
    const clamped = Math.min(nextSeq, this.durableValue);
    if (clamped > this.ackedValue) {
      this.ackedValue = clamped;
      this.scheduleAckPersist();
    }
  }

  /** Acknowledged up to and including `seq`: `acknowledge(seq + 1)`. */
  markAcked(seq: number): void {
    this.acknowledge(seq + 1);
  }

  stats(): LedgerStats {
    return {
      size: this.sizeValue,
      durableCount: this.durableValue,
      ackedCount: this.ackedValue,
      pendingRecords: this.pending.length,
      bytesOnDisk: this.bytesOnDisk(),
      segments: this.segments.length,
      fsyncs: this.fsyncs,
      refused: this.refused,
      tornBytesCut: this.tornBytesCut,
      writeErrors: this.writeErrors,
    };
  }

  /** Flushes everything and closes the files. Appends after close throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.timer = undefined;
    this.ackTimer = undefined;
    await this.flush();
    this.closed = true;
    await this.current?.fh.close();
    this.current = undefined;
  }

  private bytesOnDisk(): number {
    let total = 0;
    for (const seg of this.segments) total += seg.bytes;
    return total;
  }

  private scheduleFlush(delayMs: number): void {
    if (this.closed) return;
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushRecords().catch(() => {
        // writeBatch counted the error; the records stay pending and the next flush retries them.
        this.scheduleFlush(this.opts.fsyncIntervalMs);
      });
    }, delayMs);
  }

  /**
   * Acks arrive about once per record; the mark is written at most every ackPersistIntervalMs.
   * A stale mark costs nothing but resending acknowledged records after a crash (the edge dedups).
   */
  private scheduleAckPersist(): void {
    if (this.closed || this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.persistAcked().catch(() => {
        this.writeErrors++;
        this.scheduleAckPersist();
      });
    }, this.opts.ackPersistIntervalMs);
  }

  private async openCurrentSegment(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (last && last.bytes < this.opts.segmentBytes) this.current = { seg: last, fh: await open(last.path, "r+") };
  }

  private async rollSegment(firstSeq: number): Promise<void> {
    if (this.current) await this.current.fh.close();
    this.current = undefined;
    const seg: Segment = { firstSeq, path: join(this.dir, segmentName(firstSeq)), offsets: [], bytes: 0 };
    // "w" not "wx": a previous run may have created this file and crashed before writing to it.
    const fh = await open(seg.path, "w", 0o600);
    // The new file's directory entry must be durable before records in it are reported durable.
    fsyncDirectory(this.dir);
    const last = this.segments[this.segments.length - 1];
    if (last && last.firstSeq === firstSeq) this.segments.pop();
    this.segments.push(seg);
    this.current = { seg, fh };
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending;
    let done = 0;
    while (done < batch.length) {
      // One group per segment: a segment is closed once it reaches segmentBytes.
      try {
        if (!this.current || this.current.seg.bytes >= this.opts.segmentBytes) await this.rollSegment(batch[done]!.seq);
        const { seg, fh } = this.current!;
        let end = done;
        let groupBytes = 0;
        do {
          groupBytes += batch[end]!.frame.length;
          end++;
        } while (end < batch.length && seg.bytes + groupBytes < this.opts.segmentBytes);
        const group = batch.slice(done, end);
        const buf = Buffer.concat(group.map((p) => p.frame));
        let written = 0;
        while (written < buf.length) {
          const { bytesWritten } = await fh.write(buf, written, buf.length - written, seg.bytes + written);
          written += bytesWritten;
        }
        await fh.datasync();
        this.fsyncs++;
        let offset = seg.bytes;
        for (const p of group) {
          seg.offsets.push(offset);
          offset += p.frame.length;
        }
        seg.bytes = offset;
        done = end;
        this.pendingBytes -= groupBytes;
      } catch (err) {
        this.writeErrors++;
        this.pending = this.pending.slice(done);
        throw err;
      }
    }
    if (done > 0) {
      this.pending = this.pending.slice(done);
      this.durableValue = batch[done - 1]!.seq + 1;
      for (const listener of this.listeners) listener(this.durableValue);
    }
    this.applyRetention();
  }

  /**
   * Writes acked.json off the event loop, then applies retention. No fsync: rename is
   * atomic, and a mark lost in a crash (or an empty file after a power cut) only makes the link
   * resend acknowledged records, which the edge dedups.
   */
  private async persistAcked(): Promise<void> {
    while (this.ackWrite) await this.ackWrite;
    if (this.ackedPersisted === this.ackedValue) return;
    const value = this.ackedValue;
    const path = join(this.dir, ACKED_FILE);
    this.ackWrite = (async () => {
      await writeFile(path + ".tmp", JSON.stringify({ ackedCount: value }), { mode: 0o600 });
      await rename(path + ".tmp", path);
      this.ackedPersisted = value;
    })().finally(() => {
      this.ackWrite = undefined;
    });
    await this.ackWrite;
    this.applyRetention();
  }

  /** Deletes the oldest fully acknowledged segments while the ledger is over `retainAckedBytes`. */
  private applyRetention(): void {
    while (this.segments.length > 1 && this.bytesOnDisk() > this.opts.retainAckedBytes) {
      const oldest = this.segments[0]!;
      const end = oldest.firstSeq + oldest.offsets.length;
      if (end > this.ackedValue || oldest === this.current?.seg) return;
      this.extendLeafCache(end);
      unlinkSync(oldest.path);
      fsyncDirectory(this.dir);
      this.segments.shift();
    }
  }

  /** The leaf-hash cache keeps the Merkle log whole after segments are pruned; fsynced before any unlink. */
  private extendLeafCache(count: number): void {
    if (this.leafCacheCount >= count) return;
    const fd = openSync(join(this.dir, LEAF_CACHE_FILE), "a+", 0o600);
    try {
      ftruncateSync(fd, this.leafCacheCount * 32);
      const buf = Buffer.alloc((count - this.leafCacheCount) * 32);
      for (let seq = this.leafCacheCount; seq < count; seq++) buf.set(this.merkle.leafHash(seq), (seq - this.leafCacheCount) * 32);
      writeSync(fd, buf, 0, buf.length, this.leafCacheCount * 32);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.leafCacheCount = count;
  }
}

interface RecoveredLedger {
  segments: Segment[];
  merkle: MerkleTree;
  size: number;
  ackedCount: number;
  leafCacheCount: number;
  tornBytesCut: number;
  firstAgentId: string | undefined;
  /** Problems found (only when not throwing, i.e. in verification mode). */
  problems: string[];
  records: number;
  sigFailures: number;
}

/**
 * Reads a ledger directory and rebuilds its Merkle log. In open mode (`cutTornTail`) a torn tail of
 * the last segment is cut and anything else wrong throws `ledger_corrupt`; in verification mode the
 * directory is only read and problems are collected. `verifySignature`, when given, checks every record.
 */
function recoverLedger(
  dir: string,
  mode: { cutTornTail: boolean; verifySignature?: (record: SealedRecord) => boolean },
): RecoveredLedger {
  const problems: string[] = [];
  const fail = (message: string): void => {
    if (mode.cutTornTail) throw new LedgerError("ledger_corrupt", message);
    problems.push(message);
  };
  const names = readdirSync(dir).filter((n) => SEGMENT_PATTERN.test(n)).sort();
  // Node hashes are derived data: kept in memory and rebuilt from the segment files on open, so an
  // SD card write per record stays one frame, not O(log n) node writes.
  const store = new MemoryNodeStore();
  let merkle: MerkleTree | undefined;
  const segments: Segment[] = [];
  const leafCache = readLeafCache(dir);
  let tornBytesCut = 0;
  let next = 0;
  let records = 0;
  let sigFailures = 0;
  let firstAgentId: string | undefined;
  names.forEach((name, i) => {
    const firstSeq = Number(SEGMENT_PATTERN.exec(name)![1]);
    const path = join(dir, name);
    const isLast = i === names.length - 1;
    if (i === 0) {
      if (leafCache.length < firstSeq) {
        fail(`${path} starts at seq ${firstSeq} but the leaf-hash cache holds only ${leafCache.length} of the ${firstSeq} pruned records`);
        merkle = MerkleTree.open(store);
        return;
      }
      store.restoreLeafHashes(leafCache.slice(0, firstSeq));
      merkle = MerkleTree.open(store);
      next = firstSeq;
    } else if (firstSeq !== next) {
      fail(`${path} starts at seq ${firstSeq}, expected ${next}`);
    }
    const bytes = readFileSync(path);
    const decoded = decodeFrames(bytes);
    if (decoded.tornReason !== undefined) {
      if (!isLast) fail(`${path}: ${decoded.tornReason} (not the last segment)`);
      tornBytesCut += bytes.length - decoded.validBytes;
      if (mode.cutTornTail) {
        const fd = openSync(path, "r+");
        try {
          ftruncateSync(fd, decoded.validBytes);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    const seg: Segment = { firstSeq, path, offsets: [], bytes: decoded.validBytes };
    for (const { offset, payload } of decoded.frames) {
      const record = parseSealedRecord(payload);
      if (typeof record === "string") {
        fail(`${path} at byte ${offset}: ${record}`);
        continue;
      }
      if (record.seq !== next) fail(`${path} at byte ${offset}: seq ${record.seq}, expected ${next}`);
      firstAgentId ??= record.agentId;
      if (record.agentId !== firstAgentId) fail(`${path} at byte ${offset}: agent ${record.agentId}, expected ${firstAgentId}`);
      if (mode.verifySignature && !mode.verifySignature(record)) {
        sigFailures++;
        fail(`seq ${record.seq}: signature does not verify`);
      }
      merkle!.append(encodeRecord(record));
      seg.offsets.push(offset);
      next = record.seq + 1;
      records++;
    }
    if (seg.offsets.length === 0 && !isLast) fail(`${path} is empty but is not the last segment`);
    segments.push(seg);
  });
  let ackedCount = 0;
  try {
    const parsed = JSON.parse(readFileSync(join(dir, ACKED_FILE), "utf8")) as { ackedCount?: unknown };
    if (typeof parsed.ackedCount === "number" && Number.isSafeInteger(parsed.ackedCount) && parsed.ackedCount >= 0) ackedCount = parsed.ackedCount;
  } catch {
    // Missing or unreadable: start from 0; the link resends and the edge dedups.
  }
  return { segments, merkle: merkle ?? MerkleTree.open(store), size: next, ackedCount: Math.min(ackedCount, next), leafCacheCount: leafCache.length, tornBytesCut, firstAgentId, problems, records, sigFailures };
}

function readLeafCache(dir: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, LEAF_CACHE_FILE));
  } catch {
    return [];
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i + 32 <= bytes.length; i += 32) out.push(new Uint8Array(bytes.subarray(i, i + 32)));
  return out;
}

export interface LedgerVerification {
  readonly ok: boolean;
  /** Records present in segment files (pruned ones are covered by the leaf-hash cache). */
  readonly records: number;
  /** Size of the agent log: next seq. */
  readonly size: number;
  readonly root: Uint8Array;
  /** Bytes after the last complete frame (what a crash leaves; cut on the next open). */
  readonly tornBytes: number;
  readonly problems: readonly string[];
}

/**
 * Independent, read-only check of a ledger directory: frames and checksums, seqs contiguous, one
 * agent, every signature valid, and the Merkle root recomputed from the records. A torn tail of the
 * last segment is reported in `tornBytes` but is not a problem: it is what a crash leaves.
 */
export function verifyLedger(dir: string, verifySignature: (record: SealedRecord) => boolean): LedgerVerification {
  const state = recoverLedger(dir, { cutTornTail: false, verifySignature });
  return {
    ok: state.problems.length === 0,
    records: state.records,
    size: state.size,
    root: state.merkle.root(),
    tornBytes: state.tornBytesCut,
    problems: state.problems,
  };
}
