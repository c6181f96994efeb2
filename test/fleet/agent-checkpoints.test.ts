import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { sealRecord, verifyRecordSignature, type SealedRecord } from "../../shared/log/index.js";
import { base64ToBytes, bytesToBase64, EDGE_FEATURES, recordToWire } from "../../shared/protocol/index.js";
import {
  AGENT_CHECKPOINT_INTERVAL_MS,
  AgentCheckpoints,
  judgeAgentCheckpoint,
  openAgentCheckpoint,
  precheckAgentCheckpoint,
  readAgentCheckpoint,
} from "../../edge/fleet/agent-checkpoints.js";
import { AgentLogs } from "../../edge/fleet/agent-logs.js";
import { AgentSession } from "../../edge/fleet/agent-session.js";
import type { ConnectionState } from "../../edge/fleet/connection.js";
import { Field } from "../../edge/fleet/field.js";
import { FleetClock } from "../../edge/fleet/fleet-clock.js";
import { FleetIdentity } from "../../edge/fleet/fleet-identity.js";
import { readOutboxAfter } from "../../edge/fleet/outbox.js";
import { Presence } from "../../edge/fleet/presence.js";
import { AGENT_LOG_INCONSISTENT, Standing } from "../../edge/fleet/standing.js";
import { validEventData } from "../../shared/webhooks/index.js";
import { agentLogSigner, agentTree, signAgentCheckpoint } from "../support/agent-checkpoint.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { addAgentWithKey, logOf, openFleetDb, RecordingSocket, row, rowsOf, storedRow } from "./fleet-fixture.js";

/** Enrolled without approval needed: `enrolled` and `approved` key entries come first in the global log. */
const KEY_ENTRIES = 2;

const ORIGIN = "edge.test/fleet/f";

function sealed(agentId: string, secretKey: Uint8Array, seq: number, payload: unknown = { seq }): SealedRecord {
  return sealRecord({ agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify(payload) }, secretKey);
}

describe("opening an agent checkpoint (pure)", () => {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  const agentId = "ag_0123456789abcdef0123456789abcdef";
  const root = new Uint8Array(32).fill(7);

  it("accepts one signature by the device key under the agent's origin", () => {
    const note = signAgentCheckpoint(ORIGIN, agentId, secretKey, 3, root);
    const opened = openAgentCheckpoint(note, ORIGIN, agentId, publicKey);
    expect(opened).toMatchObject({ ok: true, checkpoint: { origin: `${ORIGIN}/agent/${agentId}`, size: 3 } });
  });

  it("refuses a wrong origin, a foreign key, a bad signature, a second signature, an oversized or malformed note", () => {
    const refused = (note: string) => openAgentCheckpoint(note, ORIGIN, agentId, publicKey);
    // The origin line of another agent (signed under this agent's key name all the same).
    expect(refused(signAgentCheckpoint(ORIGIN, agentId, secretKey, 3, root, { origin: `${ORIGIN}/agent/ag_ffffffffffffffffffffffffffffffff` }))).toMatchObject({ ok: false });
    // Another fleet's origin.
    expect(refused(signAgentCheckpoint("other.test/fleet/f", agentId, secretKey, 3, root))).toMatchObject({ ok: false });
    // Signed by a key that is not the agent's enrolled key.
    const foreign = ed25519.utils.randomSecretKey();
    expect(refused(signAgentCheckpoint(ORIGIN, agentId, foreign, 3, root))).toMatchObject({ ok: false, message: expect.stringContaining("enrolled key") });
    // A body changed after signing.
    const note = signAgentCheckpoint(ORIGIN, agentId, secretKey, 3, root);
    expect(refused(note.replace("\n3\n", "\n4\n"))).toMatchObject({ ok: false });
    // Two signatures (the device key's and another): the note must be exactly what the key signed.
    const two = signAgentCheckpoint(ORIGIN, agentId, secretKey, 3, root, { signers: [agentLogSigner(ORIGIN, agentId, secretKey), agentLogSigner(ORIGIN, agentId, foreign, "someone-else")] });
    expect(refused(two)).toMatchObject({ ok: false, message: expect.stringContaining("exactly one signature") });
    expect(refused(`${note}${"x".repeat(4096)}`)).toMatchObject({ ok: false, message: expect.stringContaining("limit 4096") });
    expect(refused("not a note")).toMatchObject({ ok: false });
    expect(refused(`${ORIGIN}/agent/${agentId}\n3\nnot-base64\n\n— ${ORIGIN}/agent/${agentId} AAAAAAAA\n`)).toMatchObject({ ok: false });
  });
});

describe("what is refused before any signature check (pure)", () => {
  const secretKey = ed25519.utils.randomSecretKey();
  const agentId = "ag_0123456789abcdef0123456789abcdef";
  const root = new Uint8Array(32).fill(7);
  const note = (size: number) => signAgentCheckpoint(ORIGIN, agentId, secretKey, size, root);

  it("no note, the empty log, extension lines; and anything within the interval of the last accepted", () => {
    expect(precheckAgentCheckpoint("not a note", undefined, 0)).toMatchObject({ kind: "bad_checkpoint" });
    expect(precheckAgentCheckpoint(note(0), undefined, 0)).toMatchObject({ kind: "bad_checkpoint", message: expect.stringContaining("empty log") });
    const withExtension = signCheckpoint({ origin: `${ORIGIN}/agent/${agentId}`, size: 3, root, extensions: ["padding"] }, [agentLogSigner(ORIGIN, agentId, secretKey)]);
    expect(precheckAgentCheckpoint(withExtension, undefined, 0)).toMatchObject({ kind: "bad_checkpoint", message: expect.stringContaining("extension") });
    // Within the interval, even a note whose signature would not verify is only rate-limited: no Ed25519 work is spent on it.
    const forged = note(9).replace(/ [A-Za-z0-9+/=]+\n$/, " AAAA" + "A".repeat(92) + "\n");
    expect(precheckAgentCheckpoint(forged, { size: 3, receivedAt: 1_000 }, 2_000)).toEqual({ kind: "rate_limited", retryAfterMs: AGENT_CHECKPOINT_INTERVAL_MS - 1_000 });
    expect(precheckAgentCheckpoint(note(4), { size: 3, receivedAt: 1_000 }, 1_000 + AGENT_CHECKPOINT_INTERVAL_MS)).toBeUndefined();
  });
});

describe("judging an agent checkpoint against the records (pure)", () => {
  const roots = [new Uint8Array(32).fill(0), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)];
  const facts = (latest?: { size: number; receivedAt: number }) => ({ held: 3, rootAt: (size: number) => roots[size]!, latest });
  const checkpoint = (size: number, root = roots[size]!) => ({ origin: "o", size, root });

  it("in order: ahead, inconsistent, shrinking, ignored, accepted (the interval is the precheck's)", () => {
    expect(judgeAgentCheckpoint(checkpoint(4, roots[3]), facts())).toEqual({ kind: "checkpoint_ahead", size: 4, held: 3 });
    expect(judgeAgentCheckpoint(checkpoint(2, roots[1]), facts())).toEqual({ kind: "agent_log_inconsistent", size: 2, claimedRoot: roots[1], expectedRoot: roots[2] });
    // A wrong root is named even when the size is old: a rewritten history is never just "stale".
    expect(judgeAgentCheckpoint(checkpoint(1, roots[3]), facts({ size: 3, receivedAt: 0 }))).toMatchObject({ kind: "agent_log_inconsistent" });
    expect(judgeAgentCheckpoint(checkpoint(1), facts({ size: 2, receivedAt: 0 }))).toMatchObject({ kind: "bad_checkpoint" });
    expect(judgeAgentCheckpoint(checkpoint(2), facts({ size: 2, receivedAt: 0 }))).toEqual({ kind: "ignored", size: 2, latest: 2 });
    expect(judgeAgentCheckpoint(checkpoint(3), facts({ size: 2, receivedAt: 0 }))).toEqual({ kind: "accept", size: 3, root: roots[3] });
    expect(judgeAgentCheckpoint(checkpoint(0), facts())).toEqual({ kind: "accept", size: 0, root: roots[0] });
  });
});

function setup() {
  const db = openFleetDb();
  const identity = new FleetIdentity(db.sql, {});
  identity.open({ fleetId: "f", host: "edge.test" }, true);
  const clock = new FleetClock(db.sql);
  const rows = rowsOf(db);
  const presence = new Presence(db, rows);
  const field = new Field(db.sql, rows, clock, { helloed: () => [] }, () => identity.config());
  const log = logOf(db);
  const standing = new Standing(db, rows, clock);
  const agentLogs = new AgentLogs(db);
  const checkpoints = new AgentCheckpoints({ storage: db, rows, logs: agentLogs, log, standing, origin: () => identity.origin });
  const session = new AgentSession({
    storage: db,
    rows,
    identity,
    presence,
    standing,
    field,
    log,
    agentLogs,
    agentCheckpoints: checkpoints,
    signatures: { verify: async (record, key) => verifyRecordSignature(record, key) },
    exclusive: (work) => work(),
  });
  const { row: agent, secretKey } = addAgentWithKey(db);
  presence.connected(row(db, agent.id), 1_000);
  const ws = new RecordingSocket();
  const state: ConnectionState = { agentId: agent.id, generation: 1, connectedAt: 1_000, replacedAt: null, helloed: false, strikes: 0, strikeWindowStart: 1_000 };
  ws.serializeAttachment(state);
  const send = (message: Record<string, unknown>, now: number) => session.receive(ws, state, JSON.stringify({ v: 1, ...message }), now);
  const record = (seq: number, payload?: unknown) => sealed(agent.id, secretKey, seq, payload);
  const sign = (size: number, root: Uint8Array) => signAgentCheckpoint(identity.origin, agent.id, secretKey, size, root);
  return { db, ws, state, send, record, sign, agent, secretKey, log, agentLogs, identity };
}

describe("agent_checkpoint over the session", () => {
  it("the welcome lists the features; a checkpoint over the records sent is accepted into the global log and the agent's head", async () => {
    const { db, ws, send, record, sign, agent, log, identity } = setup();
    expect(identity.origin).toBe(ORIGIN);
    await send({ type: "hello", agentId: agent.id, lamport: 1, agentLog: { size: 99, root: bytesToBase64(new Uint8Array(32)) } }, 1_000);
    expect(ws.of("welcome")[0]).toMatchObject({ features: [...EDGE_FEATURES] });
    expect(EDGE_FEATURES).toEqual(["agent-checkpoint", "cosignature"]);
    const sent = [0, 1, 2].map((seq) => record(seq));
    await send({ type: "records", lamport: 2, records: sent.map(recordToWire) }, 1_100);
    const root = agentTree(sent).root();
    const note = sign(3, root);
    expect(await send({ type: "agent_checkpoint", lamport: 3, note }, 1_200)).toEqual(["checkpoint"]);
    expect(ws.of("error")).toEqual([]);
    // The global log (the agent's two key entries, three records) grew by one entry, at the index stored with the checkpoint.
    expect(log.size).toBe(KEY_ENTRIES + 4);
    const stored = readAgentCheckpoint(db, agent.id);
    expect(stored).toMatchObject({ agentId: agent.id, size: 3, note, index: KEY_ENTRIES + 3, receivedAt: 1_200 });
    expect(stored!.root).toEqual(root);
    expect(storedRow(db, agent.id)).toMatchObject({ agent_log_size: 3, agent_log_root: bytesToBase64(root) });
    // The same size again: ignored, nothing appended, nothing answered.
    expect(await send({ type: "agent_checkpoint", lamport: 4, note }, 9_000)).toBeNull();
    expect(log.size).toBe(KEY_ENTRIES + 4);
    expect(ws.of("error")).toEqual([]);
    // A reconnect's hello no longer overwrites the signed head with its unsigned one.
    await send({ type: "hello", agentId: agent.id, lamport: 5, agentLog: { size: 99, root: bytesToBase64(new Uint8Array(32)) } }, 9_100);
    expect(storedRow(db, agent.id)).toMatchObject({ agent_log_size: 3 });
    db.close();
  });

  it("ahead of the records: checkpoint_ahead, no strike; too soon after the last: rate_limited, no strike; shrinking or forged: bad_checkpoint, a strike", async () => {
    const { db, ws, state, send, record, sign, agent, log } = setup();
    await send({ type: "hello", agentId: agent.id, lamport: 1 }, 1_000);
    const sent = [0, 1, 2, 3].map((seq) => record(seq));
    await send({ type: "records", lamport: 2, records: sent.slice(0, 2).map(recordToWire) }, 1_100);
    await send({ type: "agent_checkpoint", lamport: 3, note: sign(3, agentTree(sent.slice(0, 3)).root()) }, 1_200);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "checkpoint_ahead", ref: "agent_checkpoint", details: { size: 3, held: 2 } });
    expect(state.strikes).toBe(0);
    await send({ type: "records", lamport: 4, records: sent.slice(2).map(recordToWire) }, 1_300);
    await send({ type: "agent_checkpoint", lamport: 5, note: sign(3, agentTree(sent.slice(0, 3)).root()) }, 1_400);
    expect(log.size).toBe(KEY_ENTRIES + 5);
    await send({ type: "agent_checkpoint", lamport: 6, note: sign(4, agentTree(sent).root()) }, 2_400);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "rate_limited", ref: "agent_checkpoint", details: { retryAfterMs: 4_000 } });
    expect(state.strikes).toBe(0);
    expect(log.size).toBe(KEY_ENTRIES + 5);
    await send({ type: "agent_checkpoint", lamport: 7, note: sign(2, agentTree(sent.slice(0, 2)).root()) }, 7_000);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "bad_checkpoint", ref: "agent_checkpoint" });
    expect(state.strikes).toBe(1);
    const foreign = signAgentCheckpoint(ORIGIN, agent.id, ed25519.utils.randomSecretKey(), 4, agentTree(sent).root());
    await send({ type: "agent_checkpoint", lamport: 8, note: foreign }, 7_100);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "bad_checkpoint" });
    expect(state.strikes).toBe(2);
    await send({ type: "agent_checkpoint", lamport: 9, note: sign(4, agentTree(sent).root()) }, 7_200);
    expect(log.size).toBe(KEY_ENTRIES + 6);
    expect(readAgentCheckpoint(db, agent.id)).toMatchObject({ size: 4, index: KEY_ENTRIES + 5 });
    db.close();
  });

  it("a rewritten history (same key, another root): agent_log_inconsistent, a quarantine no healthy streak lifts, agent.log_inconsistent for operators", async () => {
    const { db, ws, state, send, record, sign, agent, log } = setup();
    await send({ type: "hello", agentId: agent.id, lamport: 1 }, 1_000);
    const sent = [0, 1, 2].map((seq) => record(seq));
    await send({ type: "records", lamport: 2, records: sent.map(recordToWire) }, 1_100);
    // The agent's key signs a log whose record 1 differs from the one it sent.
    const rewritten = [sent[0]!, record(1, { other: true }), sent[2]!];
    const claimed = agentTree(rewritten).root();
    const note = sign(3, claimed);
    expect(await send({ type: "agent_checkpoint", lamport: 3, note }, 1_200)).toEqual(["webhooks"]);
    const expected = agentTree(sent).root();
    expect(ws.of("error").at(-1)).toMatchObject({
      code: "agent_log_inconsistent",
      ref: "agent_checkpoint",
      details: { size: 3, claimedRoot: bytesToBase64(claimed), expectedRoot: bytesToBase64(expected) },
    });
    expect(state.strikes).toBe(0);
    expect(ws.of("standing").at(-1)).toMatchObject({ quarantined: true, reason: AGENT_LOG_INCONSISTENT, weight: 0 });
    expect(storedRow(db, agent.id)).toMatchObject({ quarantine_reason: AGENT_LOG_INCONSISTENT, quarantined_at: 1_200 });
    expect(log.size).toBe(KEY_ENTRIES + 3);
    expect(readAgentCheckpoint(db, agent.id)).toBeUndefined();
    const events = readOutboxAfter(db.sql, 0, 100).filter((e) => e.kind === "agent.quarantined" || e.kind === "agent.log_inconsistent");
    expect(events.map((e) => e.kind)).toEqual(["agent.quarantined", "agent.log_inconsistent"]);
    expect(events[1]!.data).toEqual({ agentId: agent.id, size: 3, claimedRoot: bytesToBase64(claimed), expectedRoot: bytesToBase64(expected), note });
    expect(validEventData("agent.log_inconsistent", events[1]!.data)).toBe(true);
    expect(base64ToBytes(String(events[1]!.data.expectedRoot))).toEqual(expected);

    // Many accepted clocks later (3 lift a clock quarantine), it stands; a replay does not replace it.
    for (let k = 0; k < 6; k++) await send({ type: "summary", lamport: 10 + k, t: 2_000 + k * 600, theta: 0, omega: 1, coherence: 0.5, tokenHz: 10 }, 2_000 + k * 600);
    expect(storedRow(db, agent.id).quarantine_reason).toBe(AGENT_LOG_INCONSISTENT);
    expect(row(db, agent.id).quarantine_reason).toBe(AGENT_LOG_INCONSISTENT);
    await send({ type: "summary", lamport: 5, t: 6_000, theta: 0, omega: 1, coherence: 0.5, tokenHz: 10 }, 6_000);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "lamport_replay" });
    expect(row(db, agent.id).quarantine_reason).toBe(AGENT_LOG_INCONSISTENT);
    expect(readOutboxAfter(db.sql, 0, 100).filter((e) => e.kind === "agent.released")).toEqual([]);
    // Even a later honest checkpoint is accepted into the log, and the quarantine stays.
    await send({ type: "agent_checkpoint", lamport: 30, note: sign(3, expected) }, 7_000);
    expect(log.size).toBe(KEY_ENTRIES + 4);
    expect(row(db, agent.id).quarantine_reason).toBe(AGENT_LOG_INCONSISTENT);
    // Within 5 s of an accepted one, any note is rate-limited before its signature is even checked.
    await send({ type: "agent_checkpoint", lamport: 31, note: sign(2, agentTree(rewritten.slice(0, 2)).root()) }, 8_000);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "rate_limited", ref: "agent_checkpoint", details: { retryAfterMs: 4_000 } });
    // The same lie again within the minute: answered, but one event per agent per minute.
    await send({ type: "agent_checkpoint", lamport: 32, note: sign(2, agentTree(rewritten.slice(0, 2)).root()) }, 12_100);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "agent_log_inconsistent" });
    expect(readOutboxAfter(db.sql, 0, 100).filter((e) => e.kind === "agent.log_inconsistent")).toHaveLength(1);
    expect(readOutboxAfter(db.sql, 0, 100).filter((e) => e.kind === "agent.quarantined")).toHaveLength(1);
    db.close();
  });
});
