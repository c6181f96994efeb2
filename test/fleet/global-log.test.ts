import { describe, expect, it } from "vitest";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { sealRecord } from "../../shared/log/index.js";
import { generateSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes } from "../../shared/protocol/index.js";
import { CHECKPOINT_BROADCAST_INTERVAL_MS, CheckpointCadence } from "../../edge/fleet/checkpoint-cadence.js";
import { CHECKPOINT_EVENT_INTERVAL_MS, CheckpointEvents } from "../../edge/fleet/checkpoint-events.js";
import { FleetIdentity } from "../../edge/fleet/fleet-identity.js";
import { CHECKPOINT_INTERVAL_MS, GlobalLog } from "../../edge/fleet/global-log.js";
import { LogQueries } from "../../edge/fleet/log-queries.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import { addAgentWithKey, logOf, openFleetDb, RecordingSocket } from "./fleet-fixture.js";

describe("global log", () => {
  it("appends each (agent, seq) once: the same bytes again is a duplicate, other bytes a conflict", () => {
    const db = openFleetDb();
    // Enrollment appends the agent's key entries (enrolled, approved): indices 0 and 1.
    const { row, secretKey } = addAgentWithKey(db);
    const log = logOf(db);
    const record = (seq: number, payload: string) => sealRecord({ agentId: row.id, seq, kind: "memory", timestamp: 1_000 + seq, payloadJson: payload }, secretKey);
    const r0 = record(0, '{"a":1}');
    expect(db.transaction(() => log.append(r0, 1))).toEqual({ kind: "appended", index: 2 });
    expect(db.transaction(() => log.append(record(1, '{"a":2}'), 2))).toEqual({ kind: "appended", index: 3 });
    expect(db.transaction(() => log.append(r0, 3))).toEqual({ kind: "duplicate", index: 2 });
    expect(db.transaction(() => log.append(record(0, '{"a":9}'), 4))).toEqual({ kind: "conflict", index: 2 });
    expect(log.size).toBe(4);
    expect(log.entryKey(3)).toEqual({ agentId: row.id, seq: 1 });
    // A fresh instance (after eviction) rebuilds the tree from SQLite.
    const reopened = new GlobalLog(db.sql);
    expect(reopened.size).toBe(4);
    expect(reopened.entries(0, 10).map((e) => (e.type === "record" ? e.seq : e.type))).toEqual(["key", "key", 0, 1]);
    db.close();
  });

  it("publishes checkpoints on its cadence, announces them at most once a minute (coalesced to the latest), and proves inclusion against them", () => {
    const db = openFleetDb();
    const { signerKey, verifierKey } = generateSignerKey("fleet-test");
    const identity = new FleetIdentity(db.sql, { LOG_SIGNING_KEY: signerKey });
    identity.open({ fleetId: "f", host: "edge.test" }, true);
    const log = logOf(db);
    const socket = new RecordingSocket();
    const events = new CheckpointEvents(db, log);
    const cadence = new CheckpointCadence(db, log, identity, { helloed: () => [socket] }, events);
    cadence.ensureInitial(1_000);
    expect(cadence.nextDueAt(1_000)).toBeNull();
    // Two key entries (enrolled, approved), then a record: the tree has 3 leaves.
    const { row, secretKey } = addAgentWithKey(db);
    db.transaction(() => log.append(sealRecord({ agentId: row.id, seq: 0, kind: "memory", timestamp: 1, payloadJson: "{}" }, secretKey), 1_100));
    // Grown, but the last checkpoint is younger than the interval.
    expect(cadence.nextDueAt(1_100)).toBe(1_000 + CHECKPOINT_INTERVAL_MS);
    cadence.run(1_100);
    expect(socket.of("checkpoint")).toEqual([]);
    cadence.run(1_000 + CHECKPOINT_INTERVAL_MS);
    const [announced] = socket.of("checkpoint");
    expect(announced).toMatchObject({ size: 3 });
    const published = () => readOutboxAfter(db.sql, 0, 10).filter((e) => e.kind === "checkpoint.published");
    // The empty tree's event went out at 1 000; the next may not before 61 000.
    expect(published().map((e) => e.data.size)).toEqual([0]);
    expect(events.nextDueAt()).toBe(1_000 + CHECKPOINT_EVENT_INTERVAL_MS);
    db.transaction(() => log.append(sealRecord({ agentId: row.id, seq: 1, kind: "memory", timestamp: 2, payloadJson: "{}" }, secretKey), 2_100));
    cadence.run(3_000);
    // Size 4 is signed at once, but agents are sent a checkpoint at most every 5 s (so they cosign the same one).
    expect(socket.of("checkpoint").map((c) => c.size)).toEqual([3]);
    expect(cadence.nextDueAt(3_000)).toBe(2_000 + CHECKPOINT_BROADCAST_INTERVAL_MS);
    cadence.run(2_000 + CHECKPOINT_BROADCAST_INTERVAL_MS);
    const latest = socket.of("checkpoint").at(-1)!;
    expect(latest).toMatchObject({ size: 4 });
    events.run(60_999);
    expect(published()).toHaveLength(1);
    events.run(61_000);
    // Sizes 3 and 4 were signed in between; one event carries the latest.
    expect(published().map((e) => e.data.size)).toEqual([0, 4]);
    expect(published()[1]!.data).toEqual({ size: 4, root: latest.root, note: latest.note });
    expect(events.nextDueAt()).toBeNull();
    const opened = openCheckpoint(String(announced!.note), [parseVerifierKey(verifierKey)]);
    expect(opened.checkpoint).toMatchObject({ origin: "edge.test/fleet/f", size: 3 });

    const queries = new LogQueries(log, db.sql, () => identity.origin);
    const proof = queries.inclusionProof({ agentId: row.id, seq: 0 });
    if (!proof.ok) throw new Error(proof.error.message);
    expect(proof.value).toMatchObject({ agentId: row.id, seq: 0 });
    expect(queries.inclusionProof({ agentId: row.id, seq: 5 })).toMatchObject({ ok: false, error: { code: "entry_not_found" } });
    // Explicit sizes must be signed ones (0, 3, 4 here); signed sizes in the wrong order are a bad request.
    expect(queries.consistencyProof({ from: 5 })).toMatchObject({ ok: false, error: { code: "unsigned_size", details: { size: 5, latest: 4 } } });
    expect(queries.consistencyProof({ from: 3, to: 2 })).toMatchObject({ ok: false, error: { code: "unsigned_size", details: { size: 2 } } });
    expect(queries.inclusionProof({ index: 0, size: 1 })).toMatchObject({ ok: false, error: { code: "unsigned_size", message: "no signed checkpoint has size 1; the latest is 4" } });
    expect(queries.inclusionProofs({ indices: [0], size: 2 })).toMatchObject({ ok: false, error: { code: "unsigned_size" } });
    expect(queries.consistencyProof({ from: 4, to: 3 })).toMatchObject({ ok: false, error: { code: "bad_proof_request" } });
    expect(queries.consistencyProof({ from: 3, to: 4 })).toMatchObject({ ok: true, value: { size1: 3, size2: 4 } });
    expect(queries.inclusionProof({ index: 2, size: 3 })).toMatchObject({ ok: true, value: { leafIdx: 2, treeSize: 3, agentId: row.id, seq: 0 } });
    expect(queries.entries(3, 1)).toMatchObject({ ok: false, error: { code: "bad_range" } });
    expect(base64ToBytes(String(announced!.root)).length).toBe(32);
    db.close();
  });

  it("without a signing key there is no checkpoint and nothing is due", () => {
    const db = openFleetDb();
    const identity = new FleetIdentity(db.sql, {});
    identity.open({ fleetId: "f", host: "h" }, true);
    const log = new GlobalLog(db.sql);
    const cadence = new CheckpointCadence(db, log, identity, { helloed: () => [] }, new CheckpointEvents(db, log));
    cadence.ensureInitial(1);
    expect(cadence.nextDueAt(1)).toBeNull();
    const queries = new LogQueries(log, db.sql, () => identity.origin);
    expect(queries.checkpoint()).toMatchObject({ ok: false, error: { code: "log_signing_key_missing" } });
    expect(queries.consistencyProof({ from: 0 })).toMatchObject({ ok: false, error: { code: "unsigned_size", message: "no signed checkpoint has size 0; the log has no checkpoint yet" } });
    db.close();
  });
});
