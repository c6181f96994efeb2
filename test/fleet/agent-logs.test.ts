import { describe, expect, it } from "vitest";
import { encodeRecord, recordLeafHash, sealRecord, verifyConsistency, verifyInclusion, type SealedRecord } from "../../shared/log/index.js";
import { base64ToBytes } from "../../shared/protocol/index.js";
import { AgentLogs } from "../../edge/fleet/agent-logs.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";
import { AgentLogQueries } from "../../edge/fleet/agent-log-queries.js";
import { agentTree } from "../support/agent-checkpoint.js";
import { addAgentWithKey, logOf, openFleetDb } from "./fleet-fixture.js";
import type { MemoryFleetStorage } from "../support/sql-js-database.js";

function records(agentId: string, secretKey: Uint8Array, from: number, to: number): SealedRecord[] {
  const out: SealedRecord[] = [];
  for (let seq = from; seq < to; seq++) {
    out.push(sealRecord({ agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, secretKey));
  }
  return out;
}

/** Appends to the global log, and (unless `agentLogs` is omitted) to the agent's tree, as the session does. */
function append(db: MemoryFleetStorage, log: GlobalLog, batch: readonly SealedRecord[], agentLogs?: AgentLogs): void {
  db.transaction(() => {
    for (const record of batch) if (log.append(record, 1).kind === "appended") agentLogs?.appended(record.agentId, record.seq, [encodeRecord(record)]);
  });
}

/** Stores an accepted checkpoint row directly (agent-checkpoints.test.ts covers how one is accepted). */
function accept(db: MemoryFleetStorage, agentId: string, size: number, root: Uint8Array, index: number): void {
  db.sql.exec(
    `INSERT INTO agent_checkpoints (agent_id, size, root, note, log_index, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
    agentId,
    size,
    root.slice().buffer as ArrayBuffer,
    `note ${size}`,
    index,
    1_000 + size,
  );
}

describe("agent logs (one tree per agent over SQLite)", () => {
  it("each agent's tree holds its records at leaf = seq, with the global log's leaf hashes, and survives a fresh instance", () => {
    const db = openFleetDb();
    const a = addAgentWithKey(db, 1_000, "a");
    const b = addAgentWithKey(db, 1_000, "b");
    const log = logOf(db);
    const logs = new AgentLogs(db);
    const ra = records(a.row.id, a.secretKey, 0, 5);
    const rb = records(b.row.id, b.secretKey, 0, 3);
    // Interleaved in the global log; each agent's tree only its own.
    append(db, log, [ra[0]!, rb[0]!, ra[1]!, rb[1]!], logs);
    append(db, log, [...ra.slice(2), rb[2]!], logs);
    // Two key entries per agent (enrolled, approved), then the 8 records.
    expect(log.size).toBe(4 + 8);
    const ta = logs.synced(a.row.id);
    expect(ta.size).toBe(5);
    expect(ta.root()).toEqual(agentTree(ra).root());
    expect(logs.synced(b.row.id).root()).toEqual(agentTree(rb).root());
    expect(ta.leafHash(3)).toEqual(recordLeafHash(ra[3]!));
    expect(ta.leafHash(3)).toEqual(base64ToBytes(log.inclusionProof(log.find(a.row.id, 3)!.index, log.size).leafHash));
    // A fresh instance (an evicted object) reads the same trees from SQLite, and keeps appending.
    const reopened = new AgentLogs(db);
    append(db, log, records(a.row.id, a.secretKey, 5, 6), reopened);
    expect(reopened.synced(a.row.id).root()).toEqual(agentTree([...ra, ...records(a.row.id, a.secretKey, 5, 6)]).root());
    expect(reopened.synced(a.row.id).root(5)).toEqual(agentTree(ra).root());
    db.close();
  });

  it("backfills from log_entries a tree that is behind (a database from before agent logs), page by page", () => {
    const db = openFleetDb();
    const { row, secretKey } = addAgentWithKey(db);
    const log = logOf(db);
    const all = records(row.id, secretKey, 0, 150);
    // 40 records while agent logs were kept, then 110 written by an older version (global log only).
    const logs = new AgentLogs(db);
    append(db, log, all.slice(0, 40), logs);
    append(db, log, all.slice(40));
    expect(db.sql.exec<{ size: number }>(`SELECT size FROM agent_log_sizes WHERE agent_id = ?`, row.id).one().size).toBe(40);
    // The next record appended through the session catches the tree up first, in the same transaction.
    const next = records(row.id, secretKey, 150, 151);
    append(db, log, next, new AgentLogs(db));
    expect(db.sql.exec<{ size: number }>(`SELECT size FROM agent_log_sizes WHERE agent_id = ?`, row.id).one().size).toBe(151);
    expect(new AgentLogs(db).synced(row.id).root()).toEqual(agentTree([...all, ...next]).root());
    // An agent with no tree at all (older database), read first by a query: built on first use.
    const other = addAgentWithKey(db, 2_000, "old");
    const old = records(other.row.id, other.secretKey, 0, 70);
    append(db, log, old);
    expect(db.sql.exec(`SELECT * FROM agent_log_sizes WHERE agent_id = ?`, other.row.id).toArray()).toEqual([]);
    expect(new AgentLogs(db).synced(other.row.id).root()).toEqual(agentTree(old).root());
    db.close();
  });

  it("a rolled-back append leaves no node behind, and reload() drops what memory had", () => {
    const db = openFleetDb();
    const { row, secretKey } = addAgentWithKey(db);
    const log = logOf(db);
    const logs = new AgentLogs(db);
    const batch = records(row.id, secretKey, 0, 3);
    append(db, log, batch.slice(0, 2), logs);
    expect(() =>
      db.transaction(() => {
        log.append(batch[2]!, 1);
        logs.appended(row.id, 2, [encodeRecord(batch[2]!)]);
        throw new Error("the rest of the message failed");
      }),
    ).toThrow("the rest");
    log.reload();
    logs.reload();
    expect(logs.synced(row.id).size).toBe(2);
    expect(db.sql.exec(`SELECT * FROM agent_log_nodes WHERE agent_id = ? AND level = 0 AND idx = 2`, row.id).toArray()).toEqual([]);
    db.close();
  });
});

describe("agent log queries (only at signed sizes)", () => {
  it("serve the accepted checkpoint, inclusion and consistency proofs that verify against the signed roots, and name what is missing", () => {
    const db = openFleetDb();
    const { row, secretKey } = addAgentWithKey(db);
    const log = logOf(db);
    const logs = new AgentLogs(db);
    const all = records(row.id, secretKey, 0, 9);
    append(db, log, all, logs);
    const queries = new AgentLogQueries(db, logs, () => "edge.test/fleet/f");
    expect(queries.checkpoint(row.id)).toMatchObject({ ok: false, error: { status: 404, code: "agent_checkpoint_not_found" } });
    expect(queries.inclusionProof({ agentId: row.id, seq: 0 })).toMatchObject({ ok: false, error: { code: "agent_checkpoint_not_found" } });
    const root4 = agentTree(all.slice(0, 4)).root();
    const root7 = agentTree(all.slice(0, 7)).root();
    accept(db, row.id, 4, root4, 9);
    accept(db, row.id, 7, root7, 10);

    const latest = queries.checkpoint(row.id);
    if (!latest.ok) throw new Error(latest.error.message);
    expect(latest.value).toMatchObject({ agentId: row.id, origin: `edge.test/fleet/f/agent/${row.id}`, size: 7, note: "note 7", index: 10, receivedAt: 1_007 });
    expect(base64ToBytes(latest.value.root)).toEqual(root7);
    expect(queries.checkpoint(row.id, { size: 4 })).toMatchObject({ ok: true, value: { size: 4, index: 9 } });
    expect(queries.checkpoint(row.id, { size: 5 })).toMatchObject({ ok: false, error: { status: 404, code: "agent_checkpoint_not_found" } });
    // `before`: the newest whose global index is below it (what a global checkpoint of that size commits).
    expect(queries.checkpoint(row.id, { before: 11 })).toMatchObject({ ok: true, value: { size: 7, index: 10 } });
    expect(queries.checkpoint(row.id, { before: 10 })).toMatchObject({ ok: true, value: { size: 4, index: 9 } });
    expect(queries.checkpoint(row.id, { before: 9 })).toMatchObject({ ok: false, error: { status: 404, code: "agent_checkpoint_not_found" } });
    expect(queries.checkpoint("ag_nobody")).toMatchObject({ ok: false, error: { code: "agent_checkpoint_not_found" } });

    // Inclusion at the latest signed size by default, or at another signed one.
    const inclusion = queries.inclusionProof({ agentId: row.id, seq: 5 });
    if (!inclusion.ok) throw new Error(inclusion.error.message);
    expect(inclusion.value).toMatchObject({ leafIdx: 5, treeSize: 7 });
    verifyInclusion(recordLeafHash(all[5]!), 5, 7, inclusion.value.proof.map(base64ToBytes), root7);
    const at4 = queries.inclusionProof({ agentId: row.id, seq: 1, size: 4 });
    if (!at4.ok) throw new Error(at4.error.message);
    verifyInclusion(recordLeafHash(all[1]!), 1, 4, at4.value.proof.map(base64ToBytes), root4);
    // The tree holds 9 records, but 8 and 9 were never signed.
    expect(queries.inclusionProof({ agentId: row.id, seq: 1, size: 9 })).toMatchObject({ ok: false, error: { status: 400, code: "unsigned_size", details: { size: 9, latest: 7 } } });
    expect(queries.inclusionProof({ agentId: row.id, seq: 7 })).toMatchObject({ ok: false, error: { status: 400, code: "bad_proof_request" } });

    const consistency = queries.consistencyProof({ agentId: row.id, from: 4 });
    if (!consistency.ok) throw new Error(consistency.error.message);
    expect(consistency.value).toMatchObject({ size1: 4, size2: 7 });
    verifyConsistency(4, 7, consistency.value.proof.map(base64ToBytes), root4, root7);
    expect(queries.consistencyProof({ agentId: row.id, from: 4, to: 8 })).toMatchObject({ ok: false, error: { code: "unsigned_size" } });
    expect(queries.consistencyProof({ agentId: row.id, from: 3 })).toMatchObject({ ok: false, error: { code: "unsigned_size" } });
    expect(queries.consistencyProof({ agentId: row.id, from: 7, to: 4 })).toMatchObject({ ok: false, error: { code: "bad_proof_request" } });
    db.close();
  });
});
