import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { open, rename, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { DeviceKey } from "../identity/deviceKey.js";
import { fsyncDirectory } from "../storage/durableFile.js";
import { decodeFrames, encodeFrame } from "./frame.js";
import { CompactRange } from "../../shared/log/compact-range.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { LedgerTree } from "./ledgerTree.js";
import { foldLegacyLeafCache, LEGACY_LEAF_CACHE_FILE, PRUNED_PREFIX_FILE, readPrunedPrefix, writePrunedPrefix } from "./prunedPrefix.js";
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
  /**
   * Records sealed but not yet written are held in memory; past this many bytes of them (the disk
   * is failing: writes keep erroring) every append is refused, so a dead SD card cannot eat the
   * Pi's RAM. Default 16 MiB: far above a normal batch (≤ fsyncEveryRecords records of ≤ 64 KiB).
   */
  readonly maxPendingBytes?: number;
  /** UTC epoch ms; default Date.now. */
  readonly now?: () => number;
}

export type AppendResult =
  | { readonly ok: true; readonly seq: number; readonly record: SealedRecord }
  | { readonly ok: false; readonly code: "ledger_full" | "ledger_backlog"; readonly message: string };

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
  /** The agent log's compact range at firstSeq: what pruned.range becomes once the segments before this one are deleted. */
  readonly start: CompactRange;
}

interface Pending {
  readonly seq: number;
  readonly frame: Buffer;
}

const SEGMENT_PATTERN = /^seg-(\d{16})\.log$/;
const ACKED_FILE = "acked.json";

function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, "0")}.log`;
}

/**
 * The agent's append-only, crash-safe local ledger.
 *
 * - `append` signs the record, adds its leaf to the Merkle log and queues it; it never touches the
 *   disk, so the token clock never waits on the SD card.
 * - The Merkle log is held in O(log n) memory (ledgerTree.ts); what retention deletes lives on as
 *   the compact range of the pruned prefix (prunedPrefix.ts), so roots cover the whole log.
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
  private readonly tree: LedgerTree;
  private current: { seg: Segment; fh: FileHandle } | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private ackedValue: number;
  private ackedPersisted: number;
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
    this.tree = state.tree;
    this.ackedValue = state.ackedCount;
    this.ackedPersisted = state.ackedCount;
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
      maxPendingBytes: options.maxPendingBytes ?? 16 * 1024 * 1024,
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
    finishInterruptedWork(options.dir, state);
    const ledger = new Ledger(options, opts, state);
    await ledger.openCurrentSegment();
    return ledger;
  }

  /** Records sealed so far (durable or pending); the seq of the next record. */
  get size(): number {
    return this.tree.size;
  }
  /** Records fsynced: seq 0 … durableCount − 1. */
  get durableCount(): number {
    return this.tree.durableSize;
  }
  /** Seq of the last fsynced record, −1 when none. */
  get lastDurableSeq(): number {
    return this.tree.durableSize - 1;
  }
  /** Records acknowledged by the edge: seq 0 … ackedCount − 1. */
  get ackedCount(): number {
    return this.ackedValue;
  }

  /**
   * Root of the agent's Merkle log over the first `size` records: the durable ones by default, or
   * up to the pending ones (durableCount ≤ size ≤ size). Earlier roots are not kept in memory;
   * `verifyLedger(dir, …, { rootsAt })` recomputes them from the files.
   * @throws RangeError for any other size
   */
  root(size: number = this.tree.durableSize): Uint8Array {
    return this.tree.root(size);
  }

  /**
   * Leaf hash of record `seq` (< size): from memory for pending and recent records, else read back
   * from its segment. Throws `ledger_records_pruned` once retention deleted the record.
   */
  async leafHash(seq: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.tree.size) throw new RangeError(`seq must be an integer in 0…${this.tree.size - 1}, got ${seq}`);
    const held = this.tree.leafHash(seq);
    if (held) return held;
    const [record] = await this.readFrom(seq, 1);
    if (!record) throw new LedgerError("ledger_records_pruned", `record ${seq} is no longer on disk`);
    return hashLeaf(encodeRecord(record));
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
   * it for the disk. Refused (not thrown) when the disk budget is spent, or when the disk has stopped
   * taking writes and maxPendingBytes wait in memory; see docs/agent.md.
   */
  append(kind: RecordKind, payload: JsonValue): AppendResult {
    if (this.closed) throw new LedgerError("ledger_closed", "ledger is closed");
    if (this.pendingBytes >= this.opts.maxPendingBytes) {
      this.refused++;
      return { ok: false, code: "ledger_backlog", message: `${this.pendingBytes} bytes of records wait to be written (${this.writeErrors} write errors so far); refusing more until the disk takes them` };
    }
    const used = this.bytesOnDisk() + this.pendingBytes;
    const limit = CRITICAL_KINDS.has(kind) ? this.opts.maxBytes + this.opts.criticalReserveBytes : this.opts.maxBytes;
    if (used >= limit) {
      this.refused++;
      return { ok: false, code: "ledger_full", message: `ledger holds ${used} bytes, the limit for ${kind} is ${limit}; waiting for the edge to acknowledge` };
    }
    const seq = this.tree.size;
    const { record, leaf } = sealRecord(
      { agentId: this.agentId, seq, kind, timestamp: Math.floor(this.opts.now()), payloadJson: JSON.stringify(payload) },
      this.key.sign,
    );
    const frame = encodeFrame(leaf);
    this.tree.seal(hashLeaf(leaf));
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
    const to = Math.min(this.tree.durableSize, fromSeq + limit) - 1;
    if (fromSeq > to) return [];
    const first = this.segments[0];
    if (!first || fromSeq < first.firstSeq) {
      throw new LedgerError("ledger_records_pruned", `records from seq ${fromSeq} were pruned (oldest kept is ${first?.firstSeq ?? this.tree.durableSize})`);
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
    const clamped = Math.min(nextSeq, this.tree.durableSize);
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
      size: this.tree.size,
      durableCount: this.tree.durableSize,
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
    if (this.tree.durableSize !== firstSeq) {
      throw new LedgerError("ledger_corrupt", `new segment would start at seq ${firstSeq} but ${this.tree.durableSize} records are durable`);
    }
    if (this.current) await this.current.fh.close();
    this.current = undefined;
    const seg: Segment = { firstSeq, path: join(this.dir, segmentName(firstSeq)), offsets: [], bytes: 0, start: this.tree.durableRange() };
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
        this.tree.commit(group.length);
      } catch (err) {
        this.writeErrors++;
        this.pending = this.pending.slice(done);
        throw err;
      }
    }
    if (done > 0) {
      this.pending = this.pending.slice(done);
      for (const listener of this.listeners) listener(this.tree.durableSize);
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

  /**
   * Deletes the oldest fully acknowledged segments while the ledger is over `retainAckedBytes`.
   * Before each unlink, the compact range at the next segment's start is made durable in
   * pruned.range: a crash in between leaves a segment that open() finishes deleting.
   */
  private applyRetention(): void {
    while (this.segments.length > 1 && this.bytesOnDisk() > this.opts.retainAckedBytes) {
      const oldest = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.firstSeq > this.ackedValue || oldest === this.current?.seg) return;
      writePrunedPrefix(this.dir, next.start);
      unlinkSync(oldest.path);
      fsyncDirectory(this.dir);
      this.segments.shift();
    }
  }
}

interface RecoveredLedger {
  segments: Segment[];
  tree: LedgerTree;
  size: number;
  ackedCount: number;
  tornBytesCut: number;
  firstAgentId: string | undefined;
  /** Problems found (only when not throwing, i.e. in verification mode). */
  problems: string[];
  records: number;
  sigFailures: number;
  /** The compact range of the records retention deleted (undefined: none were). */
  prunedPrefix: CompactRange | undefined;
  /** The prefix came from a legacy leaves.bin and has yet to be written as pruned.range. */
  fromLegacyLeafCache: boolean;
  /** Segments wholly inside the pruned prefix: a prune interrupted between its two steps. */
  leftoverSegments: string[];
  /** False when a problem left no way to compute the root (verification mode only). */
  rootKnown: boolean;
  /** Roots at the sizes asked for in `rootsAt`, where computable. */
  roots: Map<number, Uint8Array>;
}

/**
 * Reads a ledger directory and rebuilds its Merkle log: from the pruned prefix (pruned.range, or
 * a legacy leaves.bin) and the records in the segments. In open mode (`cutTornTail`) a torn tail
 * of the last segment is cut and anything else wrong throws `ledger_corrupt`; in verification mode
 * the directory is only read and problems are collected. `verifySignature`, when given, checks
 * every record; `rootsAt` asks for the roots at those sizes.
 */
function recoverLedger(
  dir: string,
  mode: { cutTornTail: boolean; verifySignature?: (record: SealedRecord) => boolean; rootsAt?: readonly number[] },
): RecoveredLedger {
  const problems: string[] = [];
  const fail = (message: string): void => {
    if (mode.cutTornTail) throw new LedgerError("ledger_corrupt", message);
    problems.push(message);
  };
  const found = readdirSync(dir)
    .filter((n) => SEGMENT_PATTERN.test(n))
    .sort()
    .map((name) => ({ path: join(dir, name), firstSeq: Number(SEGMENT_PATTERN.exec(name)![1]) }));

  // Node hashes are derived data: only the compact range is kept, rebuilt on open from the pruned
  // prefix and the segment files, so the SD card sees one frame per record and nothing else.
  let rootKnown = true;
  let prunedPrefix: CompactRange | undefined;
  let fromLegacyLeafCache = false;
  const recorded = readPrunedPrefix(dir);
  if (typeof recorded === "string") {
    fail(recorded);
    rootKnown = false;
  } else if (recorded !== undefined) {
    prunedPrefix = recorded;
  } else {
    const legacy = foldLegacyLeafCache(dir, found[0]?.firstSeq ?? 0);
    if (typeof legacy === "string") {
      fail(legacy);
      rootKnown = false;
    } else if (legacy !== undefined) {
      prunedPrefix = legacy;
      fromLegacyLeafCache = true;
    }
  }
  const prefixSize = prunedPrefix?.size ?? (rootKnown ? 0 : (found[0]?.firstSeq ?? 0));
  const leftoverSegments = found.filter((f) => f.firstSeq < prefixSize).map((f) => f.path);
  const kept = found.filter((f) => f.firstSeq >= prefixSize);

  const tree = new LedgerTree(prunedPrefix ?? CompactRange.empty());
  const wanted = new Set(mode.rootsAt ?? []);
  const roots = new Map<number, Uint8Array>();
  const noteRoot = (): void => {
    if (rootKnown && wanted.has(tree.durableSize)) roots.set(tree.durableSize, tree.root());
  };
  noteRoot();
  const segments: Segment[] = [];
  let tornBytesCut = 0;
  let next = prefixSize;
  let records = 0;
  let sigFailures = 0;
  let firstAgentId: string | undefined;
  kept.forEach(({ path, firstSeq }, i) => {
    const isLast = i === kept.length - 1;
    if (firstSeq !== next) {
      fail(
        i === 0
          ? `${path} starts at seq ${firstSeq} but ${prefixSize === 0 ? "nothing was pruned" : `the pruned prefix (${PRUNED_PREFIX_FILE}) covers ${prefixSize} records`}`
          : `${path} starts at seq ${firstSeq}, expected ${next}`,
      );
      rootKnown = false;
      next = firstSeq;
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
    const seg: Segment = { firstSeq, path, offsets: [], bytes: decoded.validBytes, start: tree.durableRange() };
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
      tree.seal(hashLeaf(encodeRecord(record)));
      tree.commit(1);
      noteRoot();
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
  return {
    segments,
    tree,
    size: next,
    ackedCount: Math.min(ackedCount, next),
    tornBytesCut,
    firstAgentId,
    problems,
    records,
    sigFailures,
    prunedPrefix,
    fromLegacyLeafCache,
    leftoverSegments,
    rootKnown,
    roots,
  };
}

/**
 * Completes what a crash or an older version left on open: segments an interrupted prune did not
 * get to delete, and a legacy leaves.bin, replaced by pruned.range (written first, so the prefix
 * is never without a durable copy).
 */
function finishInterruptedWork(dir: string, state: RecoveredLedger): void {
  let changed = false;
  for (const path of state.leftoverSegments) {
    unlinkSync(path);
    changed = true;
  }
  if (state.fromLegacyLeafCache && state.prunedPrefix) writePrunedPrefix(dir, state.prunedPrefix);
  const legacy = join(dir, LEGACY_LEAF_CACHE_FILE);
  if (existsSync(legacy)) {
    unlinkSync(legacy);
    changed = true;
  }
  if (changed) fsyncDirectory(dir);
}

export interface LedgerVerification {
  readonly ok: boolean;
  /** Records present in segment files (pruned ones are summed up in pruned.range). */
  readonly records: number;
  /** Size of the agent log: next seq. */
  readonly size: number;
  /** Root over all `size` records; null when a problem leaves no way to compute it. */
  readonly root: Uint8Array | null;
  /** Roots at the sizes asked for in `rootsAt` (those from the pruned prefix's size on). */
  readonly roots: ReadonlyMap<number, Uint8Array>;
  /** Bytes after the last complete frame (what a crash leaves; cut on the next open). */
  readonly tornBytes: number;
  readonly problems: readonly string[];
}

/**
 * Independent, read-only check of a ledger directory: frames and checksums, seqs contiguous, one
 * agent, every signature valid, and the Merkle root recomputed from the records (and the pruned
 * prefix, for records retention deleted). A torn tail of the last segment is reported in
 * `tornBytes` but is not a problem: it is what a crash leaves; nor is a segment a prune did not
 * finish deleting.
 */
export function verifyLedger(
  dir: string,
  verifySignature: (record: SealedRecord) => boolean,
  options: { readonly rootsAt?: readonly number[] } = {},
): LedgerVerification {
  const state = recoverLedger(dir, { cutTornTail: false, verifySignature, ...(options.rootsAt ? { rootsAt: options.rootsAt } : {}) });
  return {
    ok: state.problems.length === 0,
    records: state.records,
    size: state.size,
    root: state.rootKnown ? state.tree.root() : null,
    roots: state.roots,
    tornBytes: state.tornBytesCut,
    problems: state.problems,
  };
}
