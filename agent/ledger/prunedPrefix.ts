import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { CompactRange } from "../../shared/log/compact-range.js";
import { HASH_SIZE } from "../../shared/log/rfc6962.js";
import { writeFileAtomic } from "../storage/durableFile.js";
import { decodeFrames, encodeFrame } from "./frame.js";

/**
 * What remains of the records retention deleted: the compact range of the pruned prefix of the
 * agent log (one hash per set bit of its size). It is all the ledger needs to go on computing
 * roots over the whole log, so it replaces both the deleted segments and (since this file exists)
 * the old per-record leaf-hash cache. Written atomically and durably before any segment is
 * unlinked; one checksummed frame: [size u64 BE][hash]… (largest subtree first).
 */
export const PRUNED_PREFIX_FILE = "pruned.range";

/** The per-record leaf-hash cache of ledgers written before pruned.range; read once, then replaced. */
export const LEGACY_LEAF_CACHE_FILE = "leaves.bin";

export function writePrunedPrefix(dir: string, range: CompactRange): void {
  const hashes = range.hashes();
  const payload = Buffer.alloc(8 + hashes.length * HASH_SIZE);
  payload.writeBigUInt64BE(BigInt(range.size), 0);
  hashes.forEach((h, i) => payload.set(h, 8 + i * HASH_SIZE));
  writeFileAtomic(join(dir, PRUNED_PREFIX_FILE), encodeFrame(payload));
}

/**
 * The pruned prefix recorded in `dir`: undefined when nothing was ever pruned, a problem string
 * when the file is damaged (a bad checksum, a size its hashes do not match).
 */
export function readPrunedPrefix(dir: string): CompactRange | undefined | string {
  const bytes = readIfPresent(join(dir, PRUNED_PREFIX_FILE));
  if (bytes === undefined) return undefined;
  const decoded = decodeFrames(bytes);
  const payload = decoded.frames[0]?.payload;
  if (decoded.frames.length !== 1 || decoded.tornReason !== undefined || !payload) {
    return `${PRUNED_PREFIX_FILE} is damaged (${decoded.tornReason ?? `${decoded.frames.length} frames`})`;
  }
  if (payload.length < 8 || (payload.length - 8) % HASH_SIZE !== 0) return `${PRUNED_PREFIX_FILE} holds ${payload.length} bytes, not a size and whole hashes`;
  const size = payload.readBigUInt64BE(0);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return `${PRUNED_PREFIX_FILE} gives size ${size}`;
  const hashes: Uint8Array[] = [];
  for (let at = 8; at < payload.length; at += HASH_SIZE) hashes.push(new Uint8Array(payload.subarray(at, at + HASH_SIZE)));
  try {
    return CompactRange.fromHashes(Number(size), hashes);
  } catch (err) {
    return `${PRUNED_PREFIX_FILE}: ${(err as Error).message}`;
  }
}

/**
 * Folds the first `count` hashes of a legacy leaves.bin into a compact range, reading it in chunks
 * (never the whole file into memory). Undefined when there is no such file; a problem string when
 * it holds fewer than `count` hashes.
 */
export function foldLegacyLeafCache(dir: string, count: number): CompactRange | undefined | string {
  const path = join(dir, LEGACY_LEAF_CACHE_FILE);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const held = Math.floor(statSync(path).size / HASH_SIZE);
    if (held < count) return `the first segment starts at seq ${count} but ${LEGACY_LEAF_CACHE_FILE} holds only ${held} leaf hashes`;
    const range = CompactRange.empty();
    const chunk = Buffer.alloc(2048 * HASH_SIZE);
    while (range.size < count) {
      const want = Math.min(chunk.length, (count - range.size) * HASH_SIZE);
      const got = readSync(fd, chunk, 0, want, range.size * HASH_SIZE);
      if (got < HASH_SIZE) return `${LEGACY_LEAF_CACHE_FILE} ended early at leaf ${range.size}`;
      for (let at = 0; at + HASH_SIZE <= got; at += HASH_SIZE) range.append(new Uint8Array(chunk.subarray(at, at + HASH_SIZE)));
    }
    return range;
  } finally {
    closeSync(fd);
  }
}

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
