import { witnessName } from "../../shared/checkpoint/agent-log-names.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { encodeUtf8 } from "../../shared/encoding/utf8.js";
import { cosignatureTimestamp, cosignatureVerifier } from "../../shared/note/cosignature.js";
import { parseNote } from "../../shared/note/index.js";
import { blob } from "./sql-values.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * Agents as witnesses: each agent cosigns (C2SP tlog-cosignature, cosignature/v1) the global
 * checkpoints its auditor verified; the edge keeps the cosignatures that verify under the agent's
 * enrolled key, for a checkpoint it signed, and publishes them with the checkpoint
 * (published-checkpoint.ts). The witness's key name is derived from the authenticated agent, never
 * taken from what it sends.
 */

/** Cosignatures are kept for this many cosigned checkpoint sizes (the newest); older ones are pruned. */
export const COSIGNED_SIZES_KEPT = 64;
/** keyId (4) ‖ timestamp (8) ‖ Ed25519 signature (64). */
export const COSIGNATURE_WIRE_BYTES = 76;

/** What an agent claims it cosigned. */
export interface CosignatureClaim {
  readonly size: number;
  readonly root: Uint8Array;
  /** The 76 bytes keyId ‖ timestamp ‖ signature. */
  readonly signature: Uint8Array;
}

export type CosignatureVerdict =
  | { readonly kind: "stored"; readonly timestamp: number }
  | { readonly kind: "unknown_checkpoint" | "bad_cosignature"; readonly message: string };

/** A stored cosignature. */
export interface StoredCosignature {
  readonly agentId: string;
  readonly signature: Uint8Array;
  readonly timestamp: number;
  readonly receivedAt: number;
}

/**
 * Judges and stores one cosignature. In order: the (size, root) must be a checkpoint this edge
 * signed (`unknown_checkpoint`: the agent may have been shown another log, or ask too early; not
 * its fault), then the signature must verify over that checkpoint's text under the agent's witness
 * key (`bad_cosignature`). A newer cosignature of the same size by the same agent replaces the older.
 */
export function acceptCosignature(
  sql: SqlDatabase,
  fleetOrigin: string,
  agent: { readonly id: string; readonly publicKey: Uint8Array },
  claim: CosignatureClaim,
  now: number,
): CosignatureVerdict {
  const checkpoint = sql.exec<{ root: ArrayBuffer; note: string }>(`SELECT root, note FROM checkpoints WHERE size = ?`, claim.size).toArray()[0];
  if (checkpoint === undefined || !bytesEqual(new Uint8Array(checkpoint.root), claim.root)) {
    return { kind: "unknown_checkpoint", message: `this edge signed no checkpoint of size ${claim.size} with that root` };
  }
  if (claim.signature.length !== COSIGNATURE_WIRE_BYTES) {
    return { kind: "bad_cosignature", message: `a cosignature is ${COSIGNATURE_WIRE_BYTES} bytes (key id, timestamp, signature); got ${claim.signature.length}` };
  }
  const verifier = cosignatureVerifier(witnessName(fleetOrigin, agent.id), agent.publicKey);
  const keyId = new DataView(claim.signature.buffer, claim.signature.byteOffset, 4).getUint32(0);
  if (keyId !== verifier.keyId) return { kind: "bad_cosignature", message: `the cosignature's key id is not this agent's witness key (${verifier.name})` };
  const signature72 = claim.signature.subarray(4);
  const timestamp = cosignatureTimestamp(signature72);
  if (timestamp === undefined || !verifier.verify(encodeUtf8(parseNote(checkpoint.note).text), signature72)) {
    return { kind: "bad_cosignature", message: `the cosignature does not verify under ${verifier.name} for checkpoint ${claim.size}` };
  }
  // A size new to the table is when older sizes may fall out: the prune (a scan) runs then only,
  // about once per checkpoint sent to agents, not once per cosignature.
  const newSize = sql.exec(`SELECT 1 FROM cosignatures WHERE size = ? LIMIT 1`, claim.size).toArray().length === 0;
  sql.exec(
    `INSERT INTO cosignatures (size, agent_id, signature, timestamp, received_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (size, agent_id) DO UPDATE SET signature = excluded.signature, timestamp = excluded.timestamp, received_at = excluded.received_at
     WHERE excluded.timestamp > cosignatures.timestamp`,
    claim.size,
    agent.id,
    blob(claim.signature),
    timestamp,
    now,
  );
  if (newSize) pruneCosignatures(sql);
  return { kind: "stored", timestamp };
}

/** Keeps the cosignatures of the newest COSIGNED_SIZES_KEPT cosigned sizes. */
export function pruneCosignatures(sql: SqlDatabase): void {
  sql.exec(
    `DELETE FROM cosignatures WHERE size < (
       SELECT MIN(size) FROM (SELECT DISTINCT size FROM cosignatures ORDER BY size DESC LIMIT ?)
     )`,
    COSIGNED_SIZES_KEPT,
  );
}

/**
 * The cosignatures of checkpoint `size`, most recently received first; only those of `witnesses`
 * when given. At most `limit`.
 */
export function cosignaturesOf(sql: SqlDatabase, size: number, witnesses: readonly string[] | undefined, limit: number): StoredCosignature[] {
  const filter = witnesses === undefined ? "" : ` AND agent_id IN (${witnesses.map(() => "?").join(", ")})`;
  return sql
    .exec<{ agent_id: string; signature: ArrayBuffer; timestamp: number; received_at: number }>(
      `SELECT agent_id, signature, timestamp, received_at FROM cosignatures WHERE size = ?${filter} ORDER BY received_at DESC, agent_id LIMIT ?`,
      size,
      ...(witnesses ?? []),
      limit,
    )
    .toArray()
    .map((row) => ({ agentId: row.agent_id, signature: new Uint8Array(row.signature), timestamp: row.timestamp, receivedAt: row.received_at }));
}

/** The newest checkpoint size with at least `quorum` cosignatures (of `witnesses` when given), if any. */
export function newestCosignedSize(sql: SqlDatabase, quorum: number, witnesses: readonly string[] | undefined, size?: number): number | undefined {
  const clauses: string[] = [];
  const args: (string | number)[] = [];
  if (witnesses !== undefined) {
    clauses.push(`agent_id IN (${witnesses.map(() => "?").join(", ")})`);
    args.push(...witnesses);
  }
  if (size !== undefined) {
    clauses.push(`size = ?`);
    args.push(size);
  }
  const where = clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`;
  return sql
    .exec<{ size: number }>(`SELECT size FROM cosignatures ${where} GROUP BY size HAVING COUNT(*) >= ? ORDER BY size DESC LIMIT 1`, ...args, quorum)
    .toArray()[0]?.size;
}
