/**
 * The agent's ledger over a long run: what its memory does as records accumulate (the agent runs
 * for months on 512 MB; at 20 Hz it seals about one record a second, ≈ 95,000 a day), how fast it
 * seals and fsyncs, and how long a reopen takes once most of the log has been pruned. The real
 * Ledger on real files (default segment, retention and fsync settings), acknowledged as it goes the
 * way the edge link does, so retention prunes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { agentIdFromPublicKey } from "../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../agent/identity/deviceKey.js";
import { Ledger } from "../agent/ledger/ledger.js";
import type { BenchSection } from "./section.js";

const RECORDS = 300_000;
const EARLY = 30_000;
const BATCH = 500;
// Before the Merkle state was bounded (every node in doubling typed arrays): ≈ 11 MiB per 100,000.
const GROWTH_TARGET_BYTES_PER_100K = 256 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** JS heap plus typed-array backing stores (where node hashes used to live), after a full GC. */
function retainedBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function payload(i: number) {
  // Shaped like a memory.signature record: a few numbers and a short text.
  return { tick: i, coherence: (i % 997) / 997, phase: [Math.sin(i), Math.cos(i)], text: "resonance ".repeat(3 + (i % 5)) };
}

export default async function ledgerBench(): Promise<BenchSection> {
  const data = mkdtempSync(join(tmpdir(), "bo-bench-ledger-"));
  try {
    const key = loadOrCreateDeviceKey(data);
    const dir = join(data, "ledger");
    const options = { dir, key, agentId: agentIdFromPublicKey(key.publicKeyRaw) };
    const ledger = await Ledger.open(options);
    let early = 0;
    const started = performance.now();
    for (let i = 0; i < RECORDS; ) {
      for (const end = i + BATCH; i < end; i++) {
        const r = ledger.append("memory.signature", payload(i));
        if (!r.ok) throw new Error(r.message);
      }
      await ledger.flush();
      ledger.acknowledge(ledger.durableCount);
      if (i === EARLY) early = retainedBytes();
    }
    await ledger.flush();
    const elapsedS = (performance.now() - started) / 1000;
    const late = retainedBytes();
    const growthPer100k = ((late - early) / (RECORDS - EARLY)) * 100_000;
    const root = Buffer.from(ledger.root()).toString("hex");
    const stats = ledger.stats();
    await ledger.close();
    const files = readdirSync(dir);
    const prunedPrefixBytes = statSync(join(dir, "pruned.range")).size;

    const reopenStarted = performance.now();
    const reopened = await Ledger.open(options);
    const reopenMs = performance.now() - reopenStarted;
    const sameRoot = Buffer.from(reopened.root()).toString("hex") === root;
    await reopened.close();

    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
    return {
      title: `Agent ledger over ${RECORDS.toLocaleString("en")} records (≈ ${(RECORDS / 95_000).toFixed(1)} days at 20 Hz), default settings`,
      rows: [
        {
          metric: `memory growth per 100,000 records (heap + typed arrays after GC, records ${EARLY.toLocaleString("en")} → ${RECORDS.toLocaleString("en")})`,
          value: `${(growthPer100k / 1024).toFixed(1)} KiB`,
          target: `≤ ${GROWTH_TARGET_BYTES_PER_100K / 1024} KiB (was ≈ 11,000 KiB)`,
          pass: growthPer100k <= GROWTH_TARGET_BYTES_PER_100K,
        },
        { metric: "seal + fsync rate (500-record batches, acknowledged as it goes)", value: `${Math.round(RECORDS / elapsedS).toLocaleString("en")} records/s` },
        { metric: "on disk at the end (segments kept by retention)", value: `${mib(stats.bytesOnDisk)} in ${stats.segments} segments` },
        { metric: "what is left of the pruned records (pruned.range)", value: `${prunedPrefixBytes} B` },
        { metric: "files in the ledger directory", value: String(files.length) },
        { metric: "reopen (read and check the kept segments, rebuild the root)", value: `${reopenMs.toFixed(0)} ms`, target: "same root", pass: sameRoot },
      ],
    };
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
