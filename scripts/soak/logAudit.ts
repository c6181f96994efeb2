/**
 * The soak's verdicts, pure: an agent's ledger against the global log (counting every way a record
 * can go wrong instead of stopping at the first), and a chain of signed checkpoints, each consistent
 * with the one before. Proofs come in through a callback so this file does no I/O.
 */
import { openCheckpoint, type Checkpoint } from "../../shared/checkpoint/index.js";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { encodeRecord, MemoryNodeStore, MerkleTree, verifyConsistency, type SealedRecord } from "../../shared/log/index.js";
import type { NoteVerifier } from "../../shared/note/index.js";

/** One entry of the global log as GET /v1/log/entries serves it. */
export interface LogEntry {
  readonly index: number;
  /** record (absent: a record), or an agent's key entry or agent checkpoint: not compared with ledgers. */
  readonly type?: "record" | "key" | "agent-checkpoint";
  readonly agentId: string;
  /** The record's seq (meaningless for the other types). */
  readonly seq: number;
  /** The canonical entry bytes. */
  readonly leaf: Uint8Array;
}

export interface AgentLogComparison {
  readonly agentId: string;
  /** Records in the agent's ledger. */
  readonly ledger: number;
  /** The agent's entries in the global log. */
  readonly global: number;
  /** Ledger records the global log lacks although it holds a later record of the agent: a hole. */
  readonly lost: number;
  /** Ledger records after the agent's last global entry: never delivered (a replay that stalled or never ran). */
  readonly undelivered: number;
  /** Global entries beyond the first for one seq. */
  readonly duplicated: number;
  /** Global entries whose seq is not above the agent's previous entry's (by global index). */
  readonly reordered: number;
  /** Global entries whose bytes are not the ledger record's. */
  readonly differing: number;
  /** Global entries for seqs the ledger does not have (the edge holds what the agent lost). */
  readonly unknown: number;
  /** Ledger records whose seq is not their position (a gap or repeat in the ledger itself). */
  readonly ledgerOutOfSequence: number;
}

export function compareAgentLog(entries: readonly LogEntry[], agentId: string, records: readonly SealedRecord[]): AgentLogComparison {
  const mine = entries.filter((e) => e.agentId === agentId && (e.type ?? "record") === "record").sort((a, b) => a.index - b.index);
  const bySeq = new Map<number, LogEntry[]>();
  for (const e of mine) {
    const list = bySeq.get(e.seq);
    if (list) list.push(e);
    else bySeq.set(e.seq, [e]);
  }
  let reordered = 0;
  for (let i = 1; i < mine.length; i++) if (mine[i]!.seq <= mine[i - 1]!.seq) reordered++;
  let duplicated = 0;
  for (const list of bySeq.values()) duplicated += list.length - 1;
  const lastLogged = mine.reduce((max, e) => Math.max(max, e.seq), -1);
  let lost = 0;
  let undelivered = 0;
  let differing = 0;
  let ledgerOutOfSequence = 0;
  const ledgerSeqs = new Set<number>();
  for (const [position, record] of records.entries()) {
    if (record.seq !== position) ledgerOutOfSequence++;
    ledgerSeqs.add(record.seq);
    const held = bySeq.get(record.seq);
    if (held === undefined) {
      if (record.seq < lastLogged) lost++;
      else undelivered++;
      continue;
    }
    const bytes = encodeRecord(record);
    for (const e of held) if (!bytesEqual(e.leaf, bytes)) differing++;
  }
  let unknown = 0;
  for (const e of mine) if (!ledgerSeqs.has(e.seq)) unknown++;
  return { agentId, ledger: records.length, global: mine.length, lost, undelivered, duplicated, reordered, differing, unknown, ledgerOutOfSequence };
}

/** True when nothing went wrong for this agent. */
export function comparisonClean(c: AgentLogComparison): boolean {
  return c.lost === 0 && c.undelivered === 0 && c.duplicated === 0 && c.reordered === 0 && c.differing === 0 && c.unknown === 0 && c.ledgerOutOfSequence === 0 && c.global === c.ledger;
}

/** The root of a tree over these entries' bytes, in index order: what a checkpoint of that size must sign. */
export function rootOfEntries(entries: readonly LogEntry[]): Uint8Array {
  const tree = MerkleTree.open(new MemoryNodeStore());
  if (entries.length > 0) tree.appendMany(entries.map((e) => e.leaf));
  return tree.root();
}

/** A consistency proof as GET /v1/log/proof/consistency serves it. */
export interface ConsistencyDocument {
  readonly size1: number;
  readonly size2: number;
  readonly proof: readonly string[];
}

export interface CheckpointChainResult {
  /** Notes offered (with repeats). */
  readonly offered: number;
  /** Distinct checkpoints (by size and root) whose signature and origin verified. */
  readonly distinct: number;
  /** Notes whose signature or origin did not verify. */
  readonly badSignature: number;
  /** Consecutive pairs (by size) proven consistent. */
  readonly consistent: number;
  /** Pairs whose proof did not verify or could not be had; two roots for one size count here too. */
  readonly inconsistent: number;
  readonly problems: readonly string[];
  /** The largest verified checkpoint. */
  readonly latest: Checkpoint | undefined;
}

/**
 * Opens every note with the pinned key and origin, then proves each checkpoint consistent with the
 * next larger one (RFC 6962 proofs from `proof`, verified against OUR two roots). Two different roots
 * for one size are a fork. Size 0 has no consistency proof: its root must be the empty tree's.
 */
export async function checkCheckpointChain(
  notes: readonly string[],
  verifier: NoteVerifier,
  origin: string | undefined,
  proof: (from: number, to: number) => Promise<ConsistencyDocument>,
): Promise<CheckpointChainResult> {
  const problems: string[] = [];
  let badSignature = 0;
  const bySize = new Map<number, Checkpoint>();
  for (const note of notes) {
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(note, [verifier], origin === undefined ? {} : { origin }).checkpoint;
    } catch (err) {
      badSignature++;
      problems.push(`checkpoint refused: ${(err as Error).message}`);
      continue;
    }
    const same = bySize.get(checkpoint.size);
    if (same === undefined) bySize.set(checkpoint.size, checkpoint);
    else if (!bytesEqual(same.root, checkpoint.root)) problems.push(`fork: two roots for size ${checkpoint.size}`);
  }
  const forks = problems.length - badSignature;
  const chain = [...bySize.values()].sort((a, b) => a.size - b.size);
  let consistent = 0;
  let inconsistent = forks;
  for (let i = 1; i < chain.length; i++) {
    const older = chain[i - 1]!;
    const newer = chain[i]!;
    if (older.size === 0) {
      // RFC 9162 defines no proof from the empty tree; its root is fixed.
      if (bytesEqual(older.root, rootOfEntries([]))) consistent++;
      else {
        inconsistent++;
        problems.push("the size-0 checkpoint's root is not the empty tree's");
      }
      continue;
    }
    try {
      const doc = await proof(older.size, newer.size);
      if (doc.size1 !== older.size || doc.size2 !== newer.size) throw new Error(`proof for ${doc.size1} → ${doc.size2}, asked ${older.size} → ${newer.size}`);
      verifyConsistency(older.size, newer.size, doc.proof.map((h) => decodeBase64(h)), older.root, newer.root);
      consistent++;
    } catch (err) {
      inconsistent++;
      problems.push(`checkpoint ${older.size} → ${newer.size}: ${(err as Error).message}`);
    }
  }
  return { offered: notes.length, distinct: chain.length, badSignature, consistent, inconsistent, problems, latest: chain.at(-1) };
}
