/** Reading and checking the edge's global log and an agent's ledger from the outside, as an auditor would. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { decodeFrames } from "../../../agent/ledger/frame.js";
import { openCheckpoint, type Checkpoint } from "../../../shared/checkpoint/index.js";
import { decodeBase64 } from "../../../shared/encoding/base64.js";
import { decodeLogEntry, decodeRecord, encodeRecord, recordLeafHash, verifyInclusion, type SealedRecord } from "../../../shared/log/index.js";
import { parseVerifierKey } from "../../../shared/note/index.js";

export interface GlobalEntry {
  readonly index: number;
  /** record, key (an agent's enrollment, approval or revocation) or agent-checkpoint. */
  readonly type: "record" | "key" | "agent-checkpoint";
  readonly agentId: string;
  /** The record's seq; -1 for the other types. */
  readonly seq: number;
  /** The canonical entry bytes. */
  readonly leaf: Uint8Array;
}

/** Every entry of the global log, paging through GET /v1/log/entries. */
export async function globalEntries(edgeUrl: string): Promise<GlobalEntry[]> {
  const out: GlobalEntry[] = [];
  for (let start = 0; ; ) {
    const res = await fetch(`${edgeUrl}/v1/log/entries?start=${start}&end=${start + 256}`);
    if (res.status !== 200) throw new Error(`entries ${start}: HTTP ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { end: number; size: number; entries: { index: number; type: GlobalEntry["type"]; agentId: string; seq?: number; leaf: string }[] };
    for (const e of page.entries) {
      const leaf = decodeBase64(e.leaf);
      // The served type is the one the bytes carry.
      expect(decodeLogEntry(leaf).type, `entry ${e.index}`).toBe(e.type);
      out.push({ index: e.index, type: e.type, agentId: e.agentId, seq: e.type === "record" ? e.seq! : -1, leaf });
    }
    if (page.entries.length === 0 || page.end >= page.size) return out;
    start = page.end;
  }
}

/** The latest checkpoint, its signature checked with the key served at /v1/log/key. */
export async function verifiedCheckpoint(edgeUrl: string, expectedVerifierKey?: string): Promise<Checkpoint> {
  const key = (await (await fetch(`${edgeUrl}/v1/log/key`)).text()).trim();
  if (expectedVerifierKey !== undefined) expect(key).toBe(expectedVerifierKey);
  const note = await (await fetch(`${edgeUrl}/v1/log/checkpoint`)).text();
  return openCheckpoint(note, [parseVerifierKey(key)]).checkpoint;
}

/** Every record in a ledger directory, in file order (read-only; a torn tail is ignored). */
export function ledgerRecords(ledgerDir: string): SealedRecord[] {
  const names = readdirSync(ledgerDir).filter((n) => /^seg-\d{16}\.log$/.test(n)).sort();
  const out: SealedRecord[] = [];
  for (const name of names) {
    for (const { payload } of decodeFrames(readFileSync(join(ledgerDir, name))).frames) out.push(decodeRecord(payload));
  }
  return out;
}

/**
 * The global log holds exactly the agent's ledger records: each seq once, in per-agent order
 * (global index increasing with seq), byte for byte the records the agent sealed. Its key entries
 * (enrolled, approved) come before its first record. Returns the agent's record entries.
 */
export function expectLogHoldsLedger(entries: readonly GlobalEntry[], agentId: string, records: readonly SealedRecord[]): GlobalEntry[] {
  const mine = entries.filter((e) => e.agentId === agentId && e.type === "record");
  const keys = entries.filter((e) => e.agentId === agentId && e.type === "key");
  expect(keys.length).toBeGreaterThanOrEqual(1);
  if (mine.length > 0) expect(keys[0]!.index).toBeLessThan(mine[0]!.index);
  expect(mine.map((e) => e.seq)).toEqual(records.map((_, i) => i));
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
  for (let i = 1; i < mine.length; i++) expect(mine[i]!.index).toBeGreaterThan(mine[i - 1]!.index);
  for (const [i, e] of mine.entries()) {
    if (Buffer.compare(Buffer.from(e.leaf), Buffer.from(encodeRecord(records[i]!))) !== 0) throw new Error(`global entry ${e.index} (seq ${e.seq}) differs from the ledger record`);
  }
  return mine;
}

/** Verifies the inclusion of each entry in the checkpoint's tree, with the leaf hash computed from the agent's record. */
export async function expectIncluded(edgeUrl: string, checkpoint: Checkpoint, agentId: string, records: readonly SealedRecord[]): Promise<number> {
  let verified = 0;
  for (const record of records) {
    const res = await fetch(`${edgeUrl}/v1/log/proof/inclusion?agent=${agentId}&seq=${record.seq}&size=${checkpoint.size}`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { leafIdx: number; treeSize: number; proof: string[] };
    expect(doc.treeSize).toBe(checkpoint.size);
    verifyInclusion(recordLeafHash(record), doc.leafIdx, checkpoint.size, doc.proof.map((h) => decodeBase64(h)), checkpoint.root);
    verified++;
  }
  return verified;
}
