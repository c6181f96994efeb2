import { z } from "zod";
import { openCheckpoint } from "../../shared/checkpoint/signed-checkpoint.js";
import type { Checkpoint } from "../../shared/checkpoint/checkpoint.js";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { INCLUSION_BATCH_MAX } from "../../shared/log/proof-document.js";
import { verifyInclusion } from "../../shared/log/proof-verify.js";
import { parseVerifierKeyText, type NoteVerifier } from "../../shared/note/key-text.js";
import { LIMITS } from "../../shared/protocol/limits.js";
import type { LogReport } from "../../shared/protocol/messages.js";
import { nativeNoteVerifier } from "../identity/nativeNoteVerifier.js";
import type { KeptCheckpoint } from "./agentCosigner.js";
import { loadKeptCheckpoint, keepCheckpoint } from "./checkpointStore.js";
import { checkConsistency, planCheckpoint, type TreeHead } from "./checkpointRules.js";
import { edgeRoute } from "./edgeIdentity.js";
import { EdgeHttpError, edgeJson, edgeText } from "./edgeHttp.js";

type Log = (level: "error" | "warn" | "info" | "debug", message: string, data?: Record<string, unknown>) => void;

export interface LogAuditorOptions {
  readonly dataDir: string;
  /** The edge's HTTP base (edgeIdentity.edgeUrl). */
  readonly edgeUrl: string;
  /** The pinned verifier key (null: none pinned yet, nothing can be verified). */
  verifierKey(): string | null;
  /** The pinned origin, null until the first checkpoint is accepted… */
  origin(): string | null;
  /** …when this is called to pin it. */
  pinOrigin(origin: string): void;
  /**
   * The agent's own leaf hash for a record seq (its ledger's Merkle log). Rejects when the record is
   * gone (retention deleted it before it was checked): that record is skipped, not failed.
   */
  leafHash(seq: number): Promise<Uint8Array>;
  readonly log: Log;
  /** Least time between two audit rounds, ms (default 2000). */
  readonly roundIntervalMs?: number;
  /** Fetch GET /v1/log/checkpoint when no checkpoint was offered for this long, ms (default 30 000). */
  readonly pollIntervalMs?: number;
  /** Inclusion proofs fetched per round at most (default and ceiling: INCLUSION_BATCH_MAX, 64, one request). */
  readonly inclusionPerRound?: number;
  /** Acked records waiting for an inclusion check at most; older ones are dropped and counted (default 4096). */
  readonly inclusionQueueMax?: number;
  /** Called once, when the log is first found inconsistent, with what to report to the edge. */
  readonly onInconsistent?: (report: LogAuditReport) => void;
  /**
   * Called when a newer checkpoint is kept (the first one accepted, or one proven consistent with
   * the kept one): what the agent cosigns (agentCosigner.ts). Not called for the one loaded from disk.
   */
  readonly onKept?: (kept: KeptCheckpoint) => void;
}

/** What the agent tells the edge (and through it, operators) about an inconsistency: `log_report`. */
export type LogAuditReport = Omit<LogReport, "v" | "type" | "lamport">;

/** A signed note as evidence, if it fits the protocol's bound (a note too long is left out). */
function noteEvidence(note: string | undefined): { keptNote?: string } | Record<string, never> {
  return note !== undefined && note.length <= LIMITS.logReportNoteChars ? { keptNote: note } : {};
}

export interface LogAuditStats {
  readonly checkpointsAccepted: number;
  readonly checkpointsRejected: number;
  readonly checkpointSize: number;
  readonly inconsistent: boolean;
  readonly inconsistentReason: string | null;
  readonly inclusionVerified: number;
  readonly inclusionFailed: number;
  readonly inclusionPending: number;
  readonly inclusionSkipped: number;
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const consistencyDoc = z.object({ size1: z.number().int().min(0), size2: z.number().int().min(0), proof: z.array(b64).max(128) });
const inclusionDoc = z.object({
  leafIdx: z.number().int().min(0),
  treeSize: z.number().int().min(0),
  proof: z.array(b64).max(128),
  agentId: z.string().optional(),
  seq: z.number().int().min(0).optional(),
});
type InclusionDoc = z.infer<typeof inclusionDoc>;
const inclusionBatchDoc = z.object({ treeSize: z.number().int().min(0), proofs: z.array(inclusionDoc).max(INCLUSION_BATCH_MAX) });

/**
 * Audits the edge's global log from the agent's side, off the tick path (timers and async I/O only,
 * one round at a time, at most one round per `roundIntervalMs`):
 * - every checkpoint offered (welcome, `checkpoint` messages, or a poll of GET /v1/log/checkpoint)
 *   must carry a valid signature by the pinned verifier key and the pinned origin;
 * - it replaces the kept one (on disk) only with a verifying consistency proof (checkpointRules.ts);
 * - every record the edge acknowledged (seq → global index) must be included, with the agent's own
 *   leaf hash, in the kept checkpoint's tree.
 * An inconsistency is sticky: logged as an error, shown in stats, and the kept checkpoint stays.
 */
export class LogAuditor {
  readonly #o: LogAuditorOptions;
  #kept: (TreeHead & { note: string; origin: string; body: string }) | undefined;
  #offered: string | undefined;
  #lastOfferAt = 0;
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #inclusion: { seq: number; index: number }[] = [];
  #warnedNoKey = false;
  /** The pinned key, parsed once (it changes only when the identity is re-pinned). */
  #verifier: { key: string; verifier: NoteVerifier } | undefined;
  /** False once the edge answered 404 for the batch route (an older edge). */
  #batchRoute = true;
  #stats = {
    checkpointsAccepted: 0,
    checkpointsRejected: 0,
    inclusionVerified: 0,
    inclusionFailed: 0,
    inclusionSkipped: 0,
  };
  #inconsistentReason: string | null = null;
  #report: LogAuditReport | null = null;

  constructor(options: LogAuditorOptions) {
    this.#o = options;
    const note = loadKeptCheckpoint(options.dataDir);
    if (note !== undefined) {
      const opened = this.#open(note);
      if (typeof opened === "string") options.log("warn", "the kept edge checkpoint no longer verifies; starting over from the next one", { reason: opened });
      else this.#kept = { size: opened.size, root: opened.root, note, origin: opened.origin, body: opened.body };
    }
  }

  get keptSize(): number {
    return this.#kept?.size ?? 0;
  }

  /** The kept (verified) checkpoint, undefined before the first one. */
  kept(): KeptCheckpoint | undefined {
    const k = this.#kept;
    return k === undefined ? undefined : { origin: k.origin, size: k.size, root: k.root, body: k.body };
  }

  start(): void {
    this.#stopped = false;
    const every = this.#o.roundIntervalMs ?? 2000;
    this.#timer = setInterval(() => void this.runRound(), every);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A checkpoint note from the edge; only the newest offered is kept until the next round. */
  offer(note: string): void {
    this.#offered = note;
    this.#lastOfferAt = Date.now();
  }

  /** The edge acknowledged record `seq` at global `index`: check its inclusion once a checkpoint covers it. */
  acknowledged(seq: number, index: number): void {
    this.#inclusion.push({ seq, index });
    const max = this.#o.inclusionQueueMax ?? 4096;
    if (this.#inclusion.length > max) {
      const dropped = this.#inclusion.splice(0, this.#inclusion.length - max);
      this.#stats.inclusionSkipped += dropped.length;
    }
  }

  /** The first inconsistency found, as the edge is told it; null while the log is consistent. */
  report(): LogAuditReport | null {
    return this.#report;
  }

  #raise(report: LogAuditReport): void {
    if (this.#report !== null) return;
    this.#report = report;
    try {
      this.#o.onInconsistent?.(report);
    } catch (err) {
      this.#o.log("warn", "could not hand the log report on", { error: (err as Error).message });
    }
  }

  stats(): LogAuditStats {
    return {
      ...this.#stats,
      checkpointSize: this.#kept?.size ?? 0,
      inconsistent: this.#inconsistentReason !== null,
      inconsistentReason: this.#inconsistentReason,
      inclusionPending: this.#inclusion.length,
    };
  }

  /** One audit round (also called by tests directly). Never throws. */
  async runRound(): Promise<void> {
    // Paced by the interval timer; a round still running when it fires again is not doubled.
    if (this.#busy || this.#stopped) return;
    const now = Date.now();
    this.#busy = true;
    try {
      let note = this.#offered;
      this.#offered = undefined;
      if (note === undefined && now - this.#lastOfferAt >= (this.#o.pollIntervalMs ?? 30_000)) {
        this.#lastOfferAt = now;
        try {
          note = await edgeText(edgeRoute(this.#o.edgeUrl, "/v1/log/checkpoint"), 64 * 1024);
        } catch (err) {
          this.#o.log("debug", "could not fetch the edge checkpoint", { error: (err as Error).message });
        }
      }
      if (note !== undefined) {
        const retry = await this.#consider(note);
        if (retry && this.#offered === undefined) this.#offered = note;
      }
      await this.#checkInclusions();
    } catch (err) {
      this.#o.log("error", "log audit round failed", { error: (err as Error).message });
    } finally {
      this.#busy = false;
    }
  }

  #open(note: string): (Checkpoint & { body: string }) | string {
    const key = this.#o.verifierKey();
    if (key === null) return "no verifier key is pinned";
    try {
      const origin = this.#o.origin();
      if (this.#verifier?.key !== key) this.#verifier = { key, verifier: nativeNoteVerifier(parseVerifierKeyText(key)) };
      const opened = openCheckpoint(note, [this.#verifier.verifier], origin === null ? {} : { origin });
      return { ...opened.checkpoint, body: opened.note.text };
    } catch (err) {
      return (err as Error).message;
    }
  }

  #inconsistent(reason: string, data: { keptSize: number | null; size: number }, kind: "fork" | "consistency", note: string): void {
    this.#stats.checkpointsRejected++;
    if (this.#inconsistentReason === null) this.#inconsistentReason = reason;
    this.#raise({
      kind,
      reason: reason.slice(0, 512),
      evidence: {
        keptSize: this.#kept?.size ?? 0,
        ...noteEvidence(this.#kept?.note),
        size: data.size,
        ...(note.length <= LIMITS.logReportNoteChars ? { note } : {}),
      },
    });
    this.#o.log("error", "EDGE LOG INCONSISTENT: refusing the edge's checkpoint; the kept one stays", { reason, ...data });
  }

  /** Verifies and maybe keeps a checkpoint. Returns true when it should be retried (the edge could not be asked). */
  async #consider(note: string): Promise<boolean> {
    if (this.#o.verifierKey() === null) {
      if (!this.#warnedNoKey) this.#o.log("warn", "no edge verifier key pinned: checkpoints cannot be verified yet");
      this.#warnedNoKey = true;
      return false;
    }
    const opened = this.#open(note);
    if (typeof opened === "string") {
      this.#stats.checkpointsRejected++;
      this.#o.log("error", "refusing an edge checkpoint whose signature or origin does not verify against the pinned key", { reason: opened });
      return false;
    }
    const candidate = { size: opened.size, root: opened.root };
    const kept = this.#kept;
    const plan = planCheckpoint(kept, candidate);
    const data = { keptSize: kept?.size ?? null, size: candidate.size };
    switch (plan.kind) {
      case "unchanged":
        return false;
      case "inconsistent":
        this.#inconsistent(plan.reason, data, "fork", note);
        return false;
      case "accept":
        await this.#keep(note, opened);
        return false;
      case "prove": {
        let proof: Uint8Array[];
        try {
          const doc = await edgeJson(edgeRoute(this.#o.edgeUrl, "/v1/log/proof/consistency", { from: plan.from, to: plan.to }), consistencyDoc);
          if (doc.size1 !== plan.from || doc.size2 !== plan.to) {
            this.#inconsistent(`asked for a consistency proof ${plan.from} → ${plan.to}, got ${doc.size1} → ${doc.size2}`, data, "consistency", note);
            return false;
          }
          proof = doc.proof.map((h) => decodeBase64(h));
        } catch (err) {
          if (err instanceof EdgeHttpError && err.transient) return true;
          // The edge signed a tree it cannot prove consistent: not accepted; reported, retried with the next checkpoint.
          this.#stats.checkpointsRejected++;
          this.#o.log("warn", "the edge could not prove a checkpoint consistent with the kept one; not accepted", { ...data, error: (err as Error).message });
          return false;
        }
        const problem = checkConsistency(kept!, candidate, plan, proof);
        if (problem !== undefined) {
          this.#inconsistent(problem, data, "consistency", note);
          return false;
        }
        if (plan.replace) await this.#keep(note, opened);
        return false;
      }
    }
  }

  async #keep(note: string, checkpoint: Checkpoint & { body: string }): Promise<void> {
    await keepCheckpoint(this.#o.dataDir, note);
    this.#kept = { size: checkpoint.size, root: checkpoint.root, note, origin: checkpoint.origin, body: checkpoint.body };
    this.#stats.checkpointsAccepted++;
    if (this.#o.origin() === null) this.#o.pinOrigin(checkpoint.origin);
    this.#o.log("debug", "accepted edge checkpoint", { size: checkpoint.size });
    try {
      this.#o.onKept?.(this.kept()!);
    } catch (err) {
      this.#o.log("warn", "could not hand the kept checkpoint on", { error: (err as Error).message });
    }
  }

  /**
   * Checks the acknowledged records the kept checkpoint covers, up to one batch per round: one
   * request for all their proofs (GET /v1/log/proof/inclusions), or — against an edge without that
   * route — one request per record.
   */
  async #checkInclusions(): Promise<void> {
    const kept = this.#kept;
    if (!kept) return;
    const budget = Math.min(this.#o.inclusionPerRound ?? INCLUSION_BATCH_MAX, INCLUSION_BATCH_MAX);
    const covered = this.#inclusion.filter((item) => item.index < kept.size).slice(0, budget);
    if (covered.length === 0) return;
    const leaves = new Map<{ seq: number; index: number }, Uint8Array>();
    for (const item of covered) {
      try {
        leaves.set(item, await this.#o.leafHash(item.seq));
      } catch (err) {
        this.#stats.inclusionSkipped++;
        this.#o.log("warn", "cannot check a record's inclusion: its leaf hash is gone", { seq: item.seq, reason: (err as Error).message });
      }
    }
    const gone = new Set(covered.filter((item) => !leaves.has(item)));
    if (gone.size > 0) this.#inclusion.splice(0, this.#inclusion.length, ...this.#inclusion.filter((item) => !gone.has(item)));
    const due = covered.filter((item) => leaves.has(item));
    if (due.length === 0) return;
    let proofs: Map<number, InclusionDoc | Error>;
    try {
      proofs = await this.#fetchProofs(due, kept.size);
    } catch (err) {
      if (err instanceof EdgeHttpError && err.transient) return; // try again next round
      proofs = new Map(due.map((item) => [item.index, err as Error]));
    }
    const done = new Set(due);
    const left = this.#inclusion.filter((item) => !done.has(item));
    this.#inclusion.splice(0, this.#inclusion.length, ...left);
    for (const item of due) {
      const doc = proofs.get(item.index);
      try {
        if (doc instanceof Error) throw new Error(`the edge refused the proof: ${doc.message}`);
        if (doc === undefined) throw new Error("the edge left it out of the proofs it sent");
        if (doc.treeSize !== kept.size) throw new Error(`proof is for index ${doc.leafIdx} of size ${doc.treeSize}`);
        verifyInclusion(leaves.get(item)!, item.index, kept.size, doc.proof.map((h) => decodeBase64(h)), kept.root);
        this.#stats.inclusionVerified++;
      } catch (err) {
        this.#inclusionFailed(item, (err as Error).message);
      }
    }
  }

  async #fetchProofs(items: readonly { index: number }[], size: number): Promise<Map<number, InclusionDoc | Error>> {
    if (this.#batchRoute) {
      try {
        return await this.#fetchBatch(items, size);
      } catch (err) {
        if (!(err instanceof EdgeHttpError && err.status === 404 && err.code === "not_found")) throw err;
        this.#batchRoute = false;
        this.#o.log("info", "the edge has no batch inclusion route; asking for one proof per record");
      }
    }
    return this.#fetchOneByOne(items, size);
  }

  async #fetchBatch(items: readonly { index: number }[], size: number): Promise<Map<number, InclusionDoc>> {
    const indices = items.map((item) => item.index).join(",");
    const doc = await edgeJson(edgeRoute(this.#o.edgeUrl, "/v1/log/proof/inclusions", { indices, size }), inclusionBatchDoc);
    return new Map(doc.proofs.map((p) => [p.leafIdx, p]));
  }

  /** The fallback: a refusal of one record's proof is that record's failure; no answer at all is thrown. */
  async #fetchOneByOne(items: readonly { index: number }[], size: number): Promise<Map<number, InclusionDoc | Error>> {
    const out = new Map<number, InclusionDoc | Error>();
    for (const item of items) {
      if (this.#stopped) break;
      try {
        out.set(item.index, await edgeJson(edgeRoute(this.#o.edgeUrl, "/v1/log/proof/inclusion", { index: item.index, size }), inclusionDoc));
      } catch (err) {
        if (err instanceof EdgeHttpError && err.transient) throw err;
        out.set(item.index, err as Error);
      }
    }
    return out;
  }

  #inclusionFailed(item: { seq: number; index: number }, reason: string): void {
    this.#stats.inclusionFailed++;
    const text = `record seq ${item.seq} acknowledged at index ${item.index} is not in the signed log: ${reason}`;
    if (this.#inconsistentReason === null) this.#inconsistentReason = text;
    this.#raise({
      kind: "inclusion",
      reason: text.slice(0, 512),
      evidence: { keptSize: this.#kept?.size ?? 0, ...noteEvidence(this.#kept?.note), seq: item.seq, index: item.index },
    });
    this.#o.log("error", "EDGE LOG INCONSISTENT: an acknowledged record is not proven in the signed log", { seq: item.seq, index: item.index, size: this.#kept?.size, reason });
  }
}
