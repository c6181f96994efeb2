import { describe, expect, it } from "vitest";
import { sealRecord, verifyRecordSignature } from "../../shared/log/index.js";
import { LIMITS, recordToWire } from "../../shared/protocol/index.js";
import { AgentCheckpoints } from "../../edge/fleet/agent-checkpoints.js";
import { AgentLogs } from "../../edge/fleet/agent-logs.js";
import { AgentSession } from "../../edge/fleet/agent-session.js";
import type { ConnectionState } from "../../edge/fleet/connection.js";
import { Field } from "../../edge/fleet/field.js";
import { FleetClock } from "../../edge/fleet/fleet-clock.js";
import { FleetIdentity } from "../../edge/fleet/fleet-identity.js";
import { Presence } from "../../edge/fleet/presence.js";
import { Standing } from "../../edge/fleet/standing.js";
import { addAgentWithKey, logOf, openFleetDb, RecordingSocket, row, rowsOf } from "./fleet-fixture.js";

function setup() {
  const db = openFleetDb();
  const identity = new FleetIdentity(db.sql, {});
  identity.open({ fleetId: "f", host: "edge.test" }, true);
  const clock = new FleetClock(db.sql);
  const sockets: RecordingSocket[] = [];
  const presence = new Presence(db, rowsOf(db));
  const field = new Field(db.sql, rowsOf(db), clock, { helloed: () => sockets.filter((s) => (s.attachment as ConnectionState | null)?.helloed) }, () => identity.config());
  const log = logOf(db);
  const standing = new Standing(db, rowsOf(db), clock);
  const agentLogs = new AgentLogs(db);
  const session = new AgentSession({
    storage: db,
    rows: rowsOf(db),
    identity,
    presence,
    standing,
    field,
    log,
    agentLogs,
    agentCheckpoints: new AgentCheckpoints({ storage: db, rows: rowsOf(db), logs: agentLogs, log, standing, origin: () => identity.origin }),
    signatures: { verify: async (record, key) => verifyRecordSignature(record, key) },
    exclusive: (work) => work(),
  });
  const { row: agent, secretKey } = addAgentWithKey(db);
  presence.connected(row(db, agent.id), 1_000);
  const ws = new RecordingSocket();
  sockets.push(ws);
  const state: ConnectionState = { agentId: agent.id, generation: 1, connectedAt: 1_000, replacedAt: null, helloed: false, strikes: 0, strikeWindowStart: 1_000 };
  ws.serializeAttachment(state);
  const send = (message: Record<string, unknown>, now: number) => session.receive(ws, state, JSON.stringify({ v: 1, ...message }), now);
  const record = (seq: number, key = secretKey) =>
    recordToWire(sealRecord({ agentId: agent.id, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, key));
  return { db, ws, state, send, record, agent, log, session };
}

describe("agent session (the socket protocol over the domain modules)", () => {
  it("asks for hello first; hello gets welcome, field and standing; ping gets pong", async () => {
    const { db, ws, state, send, agent } = setup();
    expect(await send({ type: "summary", lamport: 1, t: 1_000, theta: 0, omega: 0, coherence: 1, tokenHz: 10 }, 1_000)).toBeNull();
    expect(ws.of("error")).toMatchObject([{ code: "hello_required", ref: "summary" }]);
    expect(state.strikes).toBe(1);
    expect(await send({ type: "hello", agentId: agent.id, lamport: 5, software: "t/1" }, 1_100)).toBe("all");
    expect(ws.sent.slice(-3).map((m) => m.type)).toEqual(["welcome", "field", "standing"]);
    expect(ws.of("welcome")[0]).toMatchObject({ agentId: agent.id, fleetId: "f", resume: { nextSeq: 0, lastAckedSeq: null }, log: { verifierKey: null } });
    expect(row(db, agent.id)).toMatchObject({ software: "t/1", last_seen_at: 1_100 });
    expect(await send({ type: "ping", nonce: "n1" }, 1_200)).toBeNull();
    expect(ws.of("pong")).toMatchObject([{ nonce: "n1", serverTime: 1_200 }]);
    db.close();
  });

  it("acknowledges signed records in order, refuses a forged one with bad_signature and a gap with seq_gap", async () => {
    const { db, ws, send, record, agent, log } = setup();
    await send({ type: "hello", agentId: agent.id, lamport: 1 }, 1_000);
    expect(await send({ type: "records", lamport: 2, records: [record(0), record(1)] }, 1_100)).toEqual(["checkpoint"]);
    // Indices 0 and 1 are the agent's key entries (enrolled, approved).
    expect(ws.of("ack").at(-1)).toMatchObject({ acks: [{ seq: 0, index: 2 }, { seq: 1, index: 3 }], nextSeq: 2 });
    // Another agent's enrollment appends its key entries (4, 5).
    const forged = record(2, addAgentWithKey(db).secretKey);
    await send({ type: "records", lamport: 3, records: [forged] }, 1_200);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "bad_signature", details: { seq: 2 } });
    expect(ws.of("ack").at(-1)).toMatchObject({ acks: [], nextSeq: 2 });
    await send({ type: "records", lamport: 4, records: [record(5)] }, 1_300);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "seq_gap", details: { expected: 2, got: 5 } });
    // A replayed record is acknowledged again at its index, never appended twice.
    await send({ type: "records", lamport: 5, records: [record(1), record(2)] }, 1_400);
    expect(ws.of("ack").at(-1)).toMatchObject({ acks: [{ seq: 1, index: 3 }, { seq: 2, index: 6 }], nextSeq: 3 });
    expect(log.size).toBe(7);
    expect(row(db, agent.id).next_seq).toBe(3);
    db.close();
  });

  it("a replayed clock is refused with lamport_replay and the agent hears its standing changed", async () => {
    const { db, ws, send, record, agent } = setup();
    await send({ type: "hello", agentId: agent.id, lamport: 10 }, 1_000);
    await send({ type: "records", lamport: 11, records: [record(0)] }, 1_100);
    await send({ type: "records", lamport: 3, records: [record(1)] }, 1_200);
    expect(ws.of("error").at(-1)).toMatchObject({ code: "lamport_replay", ref: "records" });
    expect(ws.of("standing").at(-1)).toMatchObject({ quarantined: true, weight: 0 });
    db.close();
  });

  it("answers an undecodable frame with its code and closes with 1008 after too many errors", async () => {
    const { db, ws, state, session } = setup();
    for (let i = 0; i <= LIMITS.strikes; i++) await session.receive(ws, state, "{not json", 1_000 + i * 1_000);
    expect(ws.of("error").length).toBe(LIMITS.strikes + 1);
    expect(ws.of("error")[0]).toMatchObject({ code: expect.any(String) });
    expect(ws.closed?.code).toBe(1008);
    db.close();
  });
});
