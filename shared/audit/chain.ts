/**
 * The whole proof chain of one record, checked from the edge's public routes as an outside auditor
 * would (docs/log.md): global checkpoint (log key) → witnesses' cosignatures (k of n) → consistency
 * with the checkpoint kept last time → the record's entry bytes → their inclusion in the global
 * checkpoint → the agent's key from the log's key entries → the device signature → the agent's
 * signed checkpoint → the record's inclusion in the agent log → that agent checkpoint's own entry
 * in the global log. Every proof is checked against a root and size taken from a signed note, never
 * against a root an answer carries. Pure apart from the injected fetch.
 */
import { agentLogOrigin, agentLogVerifierKey } from "../checkpoint/agent-log-names.js";
import { openCheckpoint, type Checkpoint } from "../checkpoint/index.js";
import { encodeBase64 } from "../encoding/base64.js";
import { bytesEqual } from "../encoding/bytes.js";
import { decodeLogEntry, hashLeaf, verifyConsistency, verifyInclusion, verifyRecordSignature, type SealedRecord } from "../log/index.js";
import { parseVerifierKey, type NoteVerifier } from "../note/index.js";
import {
  AUDIT_STEPS,
  AuditFailure,
  STEP_DEPENDS_ON,
  type AuditReport,
  type AuditStep,
  type AuditStepName,
  type KeptCheckpoint,
  type StepDetail,
} from "./audit-steps.js";
import { EdgeClient, type FetchFunction } from "./edge-client.js";
import {
  parseAgentCheckpointDocument,
  parseAgentKeysDocument,
  parseConsistencyDocument,
  parseEntryLeaf,
  parseInclusionDocument,
} from "./fetch-documents.js";
import { keyValidAt, type LoggedKeyEvent } from "./key-validity.js";
import { compareWithKept } from "./monitor-state.js";
import { validCosigners, type WitnessKey } from "./witness-keys.js";

export type AuditTarget = { readonly agentId: string; readonly seq: number } | { readonly index: number };

export interface AuditOptions {
  readonly fetch: FetchFunction;
  /** The edge's base URL. */
  readonly edge: string;
  readonly fleet?: string;
  /** The pinned log key (a note verifier). */
  readonly logKey: NoteVerifier;
  /** When given, the global checkpoint's origin must be this. */
  readonly origin?: string;
  readonly target: AuditTarget;
  readonly witnesses?: readonly WitnessKey[];
  /** Valid cosignatures required, 1 … witnesses.length (default: all of them). */
  readonly quorum?: number;
  /** Monitor mode: the checkpoint kept by the last run (null: none yet). Undefined: no monitor. */
  readonly kept?: KeptCheckpoint | null;
  readonly timeoutMs?: number;
}

interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: string;
}

interface FoundRecord {
  readonly index: number;
  readonly record: SealedRecord;
  readonly leafHash: Uint8Array;
}

const b64 = encodeBase64;

type StepOutcome = { readonly reason: string; readonly detail?: StepDetail } | { readonly skip: string };

/** Runs every step (skipping those whose dependencies failed) and reports them all. */
export async function auditRecord(options: AuditOptions): Promise<AuditReport> {
  const edge = new EdgeClient({ fetch: options.fetch, edge: options.edge, ...(options.fleet === undefined ? {} : { fleet: options.fleet }), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  const witnesses = options.witnesses ?? [];
  const quorum = options.quorum ?? witnesses.length;
  const results = new Map<AuditStepName, AuditStep>();

  async function step(name: AuditStepName, run: () => Promise<StepOutcome>): Promise<void> {
    const blocked = STEP_DEPENDS_ON[name].find((dep) => results.get(dep)?.status !== "ok");
    if (blocked !== undefined) {
      results.set(name, { step: name, status: "skipped", reason: `needs ${blocked}, which ${results.get(blocked)?.status ?? "did not run"}` });
      return;
    }
    try {
      const outcome = await run();
      if ("skip" in outcome) results.set(name, { step: name, status: "skipped", reason: outcome.skip });
      else results.set(name, { step: name, status: "ok", reason: outcome.reason, ...(outcome.detail ? { detail: outcome.detail } : {}) });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      results.set(name, { step: name, status: "failed", reason, ...(err instanceof AuditFailure && err.detail ? { detail: err.detail } : {}) });
    }
  }

  // Proofs: always against a signed (size, root).
  async function proveGlobalInclusion(leafHash: Uint8Array, index: number, signed: Checkpoint, what: string): Promise<void> {
    if (index >= signed.size) throw new AuditFailure(`${what} (index ${index}) is not covered by the checkpoint of size ${signed.size} yet`);
    const doc = parseInclusionDocument(await edge.json("/v1/log/proof/inclusion", { index, size: signed.size }));
    if (doc.leafIdx !== index || doc.treeSize !== signed.size) throw new AuditFailure(`the inclusion proof is for leaf ${doc.leafIdx} of ${doc.treeSize}, asked ${index} of ${signed.size}`);
    try {
      verifyInclusion(leafHash, index, signed.size, doc.proof, signed.root);
    } catch (err) {
      throw new AuditFailure(`${what} (index ${index}) is not in the signed tree of size ${signed.size}: ${errorMessage(err)}`);
    }
  }
  async function proveConsistency(older: Checkpoint, newer: Checkpoint): Promise<void> {
    const doc = parseConsistencyDocument(await edge.json("/v1/log/proof/consistency", { from: older.size, to: newer.size }));
    if (doc.size1 !== older.size || doc.size2 !== newer.size) throw new AuditFailure(`the consistency proof is for ${doc.size1}→${doc.size2}, asked ${older.size}→${newer.size}`);
    verifyConsistency(older.size, newer.size, doc.proof, older.root, newer.root);
  }
  async function entryBytes(index: number): Promise<Uint8Array> {
    return parseEntryLeaf(await edge.json("/v1/log/entries", { start: index, end: index + 1 }), index);
  }
  function openGlobal(note: string, what: string): Checkpoint {
    try {
      return openCheckpoint(note, [options.logKey], options.origin === undefined ? {} : { origin: options.origin }).checkpoint;
    } catch (err) {
      throw new AuditFailure(`${what} does not verify under the log key ${options.logKey.name}: ${errorMessage(err)}`);
    }
  }

  let latest: SignedCheckpoint | undefined;
  let audited: SignedCheckpoint | undefined;
  let keep: KeptCheckpoint | undefined;
  let found: FoundRecord | undefined;
  let key: { publicKey: Uint8Array; enrolledIndex: number } | undefined;
  let agentCheckpoint: { checkpoint: Checkpoint; note: string; index: number } | undefined;

  await step("global-checkpoint", async (): Promise<StepOutcome> => {
    const ids = witnesses.map((w) => w.agentId).join(",");
    const note = await edge.text("/v1/log/checkpoint", witnesses.length > 0 ? { witnesses: ids } : {});
    const checkpoint = openGlobal(note!, "the latest checkpoint");
    latest = { checkpoint, note: note! };
    return { reason: `${checkpoint.origin} size ${checkpoint.size} signed by ${options.logKey.name}`, detail: { origin: checkpoint.origin, size: checkpoint.size, root: b64(checkpoint.root) } };
  });

  await step("witnesses", async (): Promise<StepOutcome> => {
    const { checkpoint, note } = latest!;
    if (witnesses.length === 0) {
      audited = latest!;
      return { reason: "no witness keys pinned: the log key's signature alone", detail: { quorum: 0, checkpointSize: checkpoint.size } };
    }
    const foreign = witnesses.find((w) => w.origin !== checkpoint.origin);
    if (foreign) throw new AuditFailure(`witness key of ${foreign.agentId} is for log ${JSON.stringify(foreign.origin)}, not ${JSON.stringify(checkpoint.origin)}`);
    const onLatest = validCosigners(note, witnesses);
    if (onLatest.valid.length >= quorum) {
      audited = latest!;
      return { reason: `${onLatest.valid.length} of ${witnesses.length} witnesses cosigned size ${checkpoint.size} (quorum ${quorum})`, detail: { quorum, cosigners: onLatest.valid.join(","), checkpointSize: checkpoint.size } };
    }
    // The latest is not cosigned enough yet: audit against the newest one that is, provided the
    // latest extends it (a log that forks after its witnesses' view fails here).
    const ids = witnesses.map((w) => w.agentId).join(",");
    const cosignedNote = await edge.text("/v1/log/checkpoint", { witnesses: ids, quorum }, true);
    if (cosignedNote === undefined) {
      throw new AuditFailure(`no checkpoint has ${quorum} valid cosignatures of the ${witnesses.length} pinned witnesses (the latest, size ${checkpoint.size}, has ${onLatest.valid.length})`);
    }
    const cosigned = openGlobal(cosignedNote, "the cosigned checkpoint");
    if (cosigned.origin !== checkpoint.origin) throw new AuditFailure(`the cosigned checkpoint is of log ${cosigned.origin}`);
    const valid = validCosigners(cosignedNote, witnesses);
    if (valid.valid.length < quorum) {
      throw new AuditFailure(`the checkpoint served as cosigned (size ${cosigned.size}) has ${valid.valid.length} valid cosignatures, quorum ${quorum}${valid.bad.length ? ` (bad: ${valid.bad.join(",")})` : ""}`);
    }
    if (cosigned.size > checkpoint.size) throw new AuditFailure(`the cosigned checkpoint (size ${cosigned.size}) is newer than the latest (size ${checkpoint.size})`);
    try {
      if (cosigned.size === checkpoint.size) {
        if (!bytesEqual(cosigned.root, checkpoint.root)) throw new Error(`two signed roots for size ${checkpoint.size}`);
      } else if (cosigned.size > 0) {
        await proveConsistency(cosigned, checkpoint);
      }
    } catch (err) {
      throw new AuditFailure(`the latest checkpoint (size ${checkpoint.size}) does not extend the one ${quorum} witnesses cosigned (size ${cosigned.size}): ${errorMessage(err)}`);
    }
    audited = { checkpoint: cosigned, note: cosignedNote };
    return {
      reason:
        cosigned.size === checkpoint.size
          ? `${valid.valid.length} of ${witnesses.length} witnesses cosigned size ${cosigned.size}, the latest (quorum ${quorum})`
          : `${valid.valid.length} of ${witnesses.length} witnesses cosigned size ${cosigned.size}, which the latest (size ${checkpoint.size}) extends (quorum ${quorum})`,
      detail: { quorum, cosigners: valid.valid.join(","), checkpointSize: cosigned.size },
    };
  });

  await step("consistency", async (): Promise<StepOutcome> => {
    if (options.kept === undefined) return { skip: "no monitor state (--state) given" };
    // Trust moves to the audited checkpoint: with witnesses pinned, the cosigned one (not a newer,
    // un-witnessed latest that could be a split view). When `witnesses` failed there is none: the
    // latest is still compared, to name a fork, but nothing is kept (below).
    const { checkpoint, note } = audited ?? latest!;
    const now: KeptCheckpoint = { origin: checkpoint.origin, size: checkpoint.size, root: b64(checkpoint.root), note };
    if (options.kept === null) {
      keep = now;
      return { reason: `kept-none: keeping size ${checkpoint.size}`, detail: { kept: "none", size: checkpoint.size } };
    }
    const kept = options.kept;
    let keptCheckpoint: Checkpoint;
    try {
      keptCheckpoint = openCheckpoint(kept.note, [options.logKey]).checkpoint;
    } catch (err) {
      throw new AuditFailure(`the kept checkpoint does not verify under the log key: ${errorMessage(err)}`);
    }
    if (keptCheckpoint.size !== kept.size || b64(keptCheckpoint.root) !== kept.root || keptCheckpoint.origin !== kept.origin) {
      throw new AuditFailure(`the kept state's size/root/origin are not those of its signed note`);
    }
    if (witnesses.length > 0 && audited !== undefined && kept.origin === checkpoint.origin && kept.size > checkpoint.size) {
      // A state kept by a run without witnesses can be ahead of what they cosigned: the cosigned
      // checkpoint must then be its prefix, and the state does not move back.
      try {
        if (checkpoint.size > 0) await proveConsistency(checkpoint, keptCheckpoint);
      } catch (err) {
        throw new AuditFailure(`the kept size ${kept.size} does not extend the cosigned size ${checkpoint.size}: ${errorMessage(err)}`, { keptSize: kept.size, size: checkpoint.size });
      }
      keep = kept;
      return { reason: `the kept size ${kept.size} extends the cosigned size ${checkpoint.size}: kept as is`, detail: { keptSize: kept.size, size: checkpoint.size } };
    }
    const comparison = compareWithKept(kept, now);
    if (comparison.kind === "fork") throw new AuditFailure(comparison.reason, { keptSize: kept.size, size: checkpoint.size });
    if (comparison.kind === "extends") {
      try {
        await proveConsistency(keptCheckpoint, checkpoint);
      } catch (err) {
        throw new AuditFailure(`size ${checkpoint.size} does not extend the kept size ${kept.size}: ${errorMessage(err)}`, { keptSize: kept.size, size: checkpoint.size });
      }
    }
    keep = now;
    return { reason: `size ${checkpoint.size} extends the kept size ${kept.size}`, detail: { keptSize: kept.size, size: checkpoint.size } };
  });

  await step("record", async (): Promise<StepOutcome> => {
    const bound = latest!.checkpoint.size;
    const target = options.target;
    let index: number;
    if ("index" in target) {
      index = target.index;
    } else {
      const hint = parseInclusionDocument(await edge.json("/v1/log/proof/inclusion", { agent: target.agentId, seq: target.seq, size: bound }));
      index = hint.leafIdx;
    }
    if (index >= bound) throw new AuditFailure(`index ${index} is beyond the latest checkpoint (size ${bound})`);
    const bytes = await entryBytes(index);
    let entry;
    try {
      entry = decodeLogEntry(bytes);
    } catch (err) {
      throw new AuditFailure(`the entry at index ${index} does not decode: ${errorMessage(err)}`, { index });
    }
    if (entry.type !== "record") throw new AuditFailure(`the entry at index ${index} is a ${entry.type} entry, not a record`, { index });
    const record = entry.record;
    if (!("index" in target) && (record.agentId !== target.agentId || record.seq !== target.seq)) {
      throw new AuditFailure(`the entry at index ${index} is ${record.agentId} seq ${record.seq}, not ${target.agentId} seq ${target.seq}`, { index });
    }
    found = { index, record, leafHash: hashLeaf(bytes) };
    return {
      reason: `index ${index} holds ${record.agentId} seq ${record.seq} (${record.kind})`,
      detail: { index, agentId: record.agentId, seq: record.seq, kind: record.kind, timestamp: record.timestamp, leafHash: b64(found.leafHash) },
    };
  });

  await step("global-inclusion", async (): Promise<StepOutcome> => {
    await proveGlobalInclusion(found!.leafHash, found!.index, audited!.checkpoint, "the record");
    return { reason: `leaf ${found!.index} is in the signed tree of size ${audited!.checkpoint.size}`, detail: { index: found!.index, size: audited!.checkpoint.size, root: b64(audited!.checkpoint.root) } };
  });

  await step("key", async (): Promise<StepOutcome> => {
    const { record, index } = found!;
    const doc = parseAgentKeysDocument(await edge.json(`/v1/log/agents/${encodeURIComponent(record.agentId)}/keys`));
    if (doc.agentId !== record.agentId) throw new AuditFailure(`the keys answer is for ${doc.agentId}, not ${record.agentId}`);
    const events: LoggedKeyEvent[] = [];
    for (const k of doc.keys) {
      // Entries the audited checkpoint does not cover yet cannot matter for an older record.
      if (k.index >= audited!.checkpoint.size) continue;
      const bytes = await entryBytes(k.index);
      let entry;
      try {
        entry = decodeLogEntry(bytes);
      } catch (err) {
        throw new AuditFailure(`the key entry at index ${k.index} does not decode: ${errorMessage(err)}`);
      }
      if (entry.type !== "key" || entry.agentId !== record.agentId || entry.event !== k.event || !bytesEqual(entry.publicKey, k.publicKey) || entry.timestamp !== k.at) {
        throw new AuditFailure(`the entry at index ${k.index} is not the ${k.event} key entry of ${record.agentId} the keys answer lists`);
      }
      await proveGlobalInclusion(hashLeaf(bytes), k.index, audited!.checkpoint, `the ${k.event} key entry`);
      events.push({ event: k.event, publicKey: k.publicKey, index: k.index });
    }
    const valid = keyValidAt(events, index, record.agentId);
    if (!valid.valid) throw new AuditFailure(valid.reason, { entries: events.length });
    key = { publicKey: valid.publicKey, enrolledIndex: valid.enrolledIndex };
    return {
      reason: `key enrolled at index ${valid.enrolledIndex}${valid.enrolledAfter ? " (logged after this record: enrolled before keys were logged; the id is the key's fingerprint)" : ""}, not revoked before index ${index} (${events.length} key entries checked)`,
      detail: { publicKey: b64(valid.publicKey), enrolledIndex: valid.enrolledIndex, enrolledAfter: valid.enrolledAfter, entries: events.length },
    };
  });

  await step("device-signature", async (): Promise<StepOutcome> => {
    if (!verifyRecordSignature(found!.record, key!.publicKey)) {
      throw new AuditFailure(`the record's signature does not verify under the key enrolled at index ${key!.enrolledIndex}`);
    }
    return { reason: `Ed25519 signature by the key enrolled at index ${key!.enrolledIndex}` };
  });

  await step("agent-checkpoint", async (): Promise<StepOutcome> => {
    const { record } = found!;
    const origin = agentLogOrigin(latest!.checkpoint.origin, record.agentId);
    const path = `/v1/log/agents/${encodeURIComponent(record.agentId)}/checkpoint`;
    const size = audited!.checkpoint.size;
    let doc = parseAgentCheckpointDocument(await edge.json(path));
    if (doc.index >= size) {
      // Newer than the audited (cosigned) checkpoint: ask for the newest one it commits. Only a
      // hint: it is verified below and in agent-checkpoint-entry like any other.
      const latestIndex = doc.index;
      try {
        doc = parseAgentCheckpointDocument(await edge.json(path, { before: size }));
      } catch (err) {
        if (err instanceof AuditFailure && err.detail?.["status"] === 404) {
          throw new AuditFailure(`the latest agent checkpoint (entry ${latestIndex}) is not covered by the checkpoint of size ${size}, and the edge has none of the agent's below it (retry later)`);
        }
        throw err;
      }
      if (doc.index >= size) throw new AuditFailure(`asked for an agent checkpoint below entry ${size}, the answer is entry ${doc.index}`);
    }
    if (doc.agentId !== record.agentId) throw new AuditFailure(`the agent checkpoint answer is for ${doc.agentId}, not ${record.agentId}`);
    let checkpoint: Checkpoint;
    try {
      const verifier = parseVerifierKey(agentLogVerifierKey(latest!.checkpoint.origin, record.agentId, key!.publicKey));
      checkpoint = openCheckpoint(doc.note, [verifier], { origin }).checkpoint;
    } catch (err) {
      throw new AuditFailure(`the agent checkpoint is not signed by the agent's key for ${origin}: ${errorMessage(err)}`);
    }
    if (checkpoint.size !== doc.size || !bytesEqual(checkpoint.root, doc.root)) {
      throw new AuditFailure(`the answer says size ${doc.size}, its signed note size ${checkpoint.size} (or another root)`);
    }
    if (checkpoint.size <= record.seq) throw new AuditFailure(`the latest agent checkpoint (size ${checkpoint.size}) does not cover seq ${record.seq} yet`);
    agentCheckpoint = { checkpoint, note: doc.note, index: doc.index };
    return { reason: `${origin} size ${checkpoint.size} signed by the agent's key`, detail: { origin, size: checkpoint.size, root: b64(checkpoint.root), index: doc.index } };
  });

  await step("agent-inclusion", async (): Promise<StepOutcome> => {
    const { record, leafHash } = found!;
    const { checkpoint } = agentCheckpoint!;
    const doc = parseInclusionDocument(
      await edge.json(`/v1/log/agents/${encodeURIComponent(record.agentId)}/proof/inclusion`, { seq: record.seq, size: checkpoint.size }),
      "agent-log inclusion proof",
    );
    if (doc.leafIdx !== record.seq || doc.treeSize !== checkpoint.size) throw new AuditFailure(`the proof is for leaf ${doc.leafIdx} of ${doc.treeSize}, asked ${record.seq} of ${checkpoint.size}`);
    try {
      verifyInclusion(leafHash, record.seq, checkpoint.size, doc.proof, checkpoint.root);
    } catch (err) {
      throw new AuditFailure(`seq ${record.seq} is not in the agent's signed log of size ${checkpoint.size}: ${errorMessage(err)}`);
    }
    return { reason: `seq ${record.seq} is in the agent's signed log of size ${checkpoint.size}`, detail: { seq: record.seq, size: checkpoint.size } };
  });

  await step("agent-checkpoint-entry", async (): Promise<StepOutcome> => {
    const { note, index } = agentCheckpoint!;
    const bytes = await entryBytes(index);
    let entry;
    try {
      entry = decodeLogEntry(bytes);
    } catch (err) {
      throw new AuditFailure(`the entry at index ${index} does not decode: ${errorMessage(err)}`);
    }
    if (entry.type !== "agent-checkpoint" || entry.agentId !== found!.record.agentId || entry.note !== note) {
      throw new AuditFailure(`the entry at index ${index} is not this agent checkpoint`);
    }
    await proveGlobalInclusion(hashLeaf(bytes), index, audited!.checkpoint, "the agent checkpoint entry");
    return { reason: `the agent checkpoint is entry ${index} of the signed tree of size ${audited!.checkpoint.size}`, detail: { index, size: audited!.checkpoint.size } };
  });

  const steps = AUDIT_STEPS.map((name) => results.get(name)!);
  const failed = steps.find((s) => s.status === "failed");
  // Trust moves forward only to a checkpoint that extends the kept one and that the witnesses'
  // view does not contradict (a fork after the cosigned checkpoint must not become the new anchor).
  if (results.get("witnesses")?.status !== "ok") keep = undefined;
  return {
    ok: failed === undefined,
    steps,
    ...(failed ? { failure: { step: failed.step, reason: failed.reason } } : {}),
    ...(keep ? { keep } : {}),
  };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return "code" in err && typeof err.code === "string" ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}
