/**
 * Agents' own logs in the Fleet object (workerd): signed agent checkpoints over the records an agent
 * sent are accepted into the global log (a 0x02 entry) and served with proofs that verify against
 * the signed root; a rewritten history is caught and quarantines the agent; refusals are named; and
 * everything comes back from SQLite after the object is evicted.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentLogVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { decodeLogEntry, recordLeafHash, sealRecord, verifyConsistency, verifyInclusion, type SealedRecord } from "../../shared/log/index.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes, recordToWire } from "../../shared/protocol/index.js";
import { agentTree, signAgentCheckpoint, tamperSignature } from "../support/agent-checkpoint.js";
import { enrollAgent, open, type Session, type TestAgent } from "./fleet-agent.js";
import { ed25519 } from "@noble/curves/ed25519.js";

async function get(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await exports.default.fetch(`http://edge.test${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text answer
  }
  return { status: res.status, body, headers: res.headers };
}

const stubFor = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

function sealed(agent: TestAgent, seq: number, payload: unknown = { seq }): SealedRecord {
  return sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify(payload) }, agent.secretKey);
}

/** Sends records and waits for the ack that covers them. */
async function sendRecords(session: Session, records: readonly SealedRecord[], lamport: number): Promise<void> {
  const from = session.mark();
  session.send({ v: 1, type: "records", lamport, records: records.map(recordToWire) });
  await session.next("ack", (a) => a.nextSeq === records.at(-1)!.seq + 1, from);
}

/** Lets the agent's next checkpoint through the one-per-5-s limit without waiting 5 s. */
async function ageCheckpoints(agent: TestAgent): Promise<void> {
  await runInDurableObject(stubFor(agent.fleet), (_i, state) => {
    state.storage.sql.exec(`UPDATE agent_checkpoints SET received_at = received_at - 10000 WHERE agent_id = ?`, agent.agentId);
  });
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out: ${what}`);
}

async function outboxKinds(fleet: string): Promise<string[]> {
  return runInDurableObject(stubFor(fleet), (_i, state) => state.storage.sql.exec<{ kind: string }>(`SELECT kind FROM outbox ORDER BY id`).toArray().map((r) => r.kind));
}

describe("agent checkpoints in the Fleet object", () => {
  it("accepts a checkpoint over the records sent, logs it as a 0x02 entry, serves it with proofs that verify against the signed root, and rebuilds it all after eviction", async () => {
    const fleet = "agent-log";
    const agent = await enrollAgent(fleet, "signer");
    const session = await open(agent, 1);
    const welcome = session.of("welcome")[0]!;
    expect(welcome.features).toEqual(["agent-checkpoint", "cosignature"]);
    const origin = welcome.log.origin;
    const records = [0, 1, 2, 3, 4].map((seq) => sealed(agent, seq));
    await sendRecords(session, records, 2);
    const note5 = signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 5, agentTree(records).root());
    session.send({ v: 1, type: "agent_checkpoint", lamport: 3, note: note5 });
    const base = `/v1/log/agents/${agent.agentId}`;
    const first = await waitFor(() => get(`${base}/checkpoint?fleet=${fleet}`), (r) => r.status === 200, "the agent checkpoint");
    expect(first.headers.get("access-control-allow-origin")).toBe("*");
    expect(first.body).toMatchObject({ agentId: agent.agentId, origin: `${origin}/agent/${agent.agentId}`, size: 5, note: note5, index: 7 });
    expect(session.of("error")).toEqual([]);

    // The global log's entry at that index is the note, exactly as signed (after the agent's two
    // key entries, enrolled and approved, and its five records).
    const entries = await get(`/v1/log/entries?fleet=${fleet}&start=0&end=10`);
    expect(entries.body.entries.map((e: { index: number }) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(entries.body.entries[7]).toMatchObject({ index: 7, type: "agent-checkpoint", agentId: agent.agentId, checkpoint: { size: 5, note: note5 } });
    const leaf = decodeLogEntry(base64ToBytes(entries.body.entries[7].leaf));
    expect(leaf).toEqual({ type: "agent-checkpoint", agentId: agent.agentId, note: note5 });

    // Proofs from the routes verify against the root the agent's key signed (not the one they carry).
    const verifier = parseVerifierKey(agentLogVerifierKey(origin, agent.agentId, agent.publicKey));
    const signed5 = openCheckpoint(first.body.note, [verifier], { origin: first.body.origin }).checkpoint;
    const inclusion = await get(`${base}/proof/inclusion?fleet=${fleet}&seq=3`);
    expect(inclusion.status).toBe(200);
    verifyInclusion(recordLeafHash(records[3]!), 3, signed5.size, inclusion.body.proof.map(base64ToBytes), signed5.root);

    // Three more records and a second checkpoint: a consistency proof between the two signed sizes.
    const more = [5, 6, 7].map((seq) => sealed(agent, seq));
    await sendRecords(session, more, 4);
    await ageCheckpoints(agent);
    const note8 = signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 8, agentTree([...records, ...more]).root());
    session.send({ v: 1, type: "agent_checkpoint", lamport: 5, note: note8 });
    const second = await waitFor(() => get(`${base}/checkpoint?fleet=${fleet}`), (r) => r.body.size === 8, "the second agent checkpoint");
    const signed8 = openCheckpoint(second.body.note, [verifier]).checkpoint;
    const consistency = await get(`${base}/proof/consistency?fleet=${fleet}&from=5`);
    expect(consistency.body).toMatchObject({ size1: 5, size2: 8 });
    verifyConsistency(5, 8, consistency.body.proof.map(base64ToBytes), signed5.root, signed8.root);
    const at5 = await get(`${base}/proof/inclusion?fleet=${fleet}&seq=4&size=5`);
    expect(at5.headers.get("cache-control")).toContain("immutable");
    verifyInclusion(recordLeafHash(records[4]!), 4, 5, at5.body.proof.map(base64ToBytes), signed5.root);
    expect((await get(`${base}/checkpoint?fleet=${fleet}&size=5`)).body).toMatchObject({ size: 5, note: note5 });

    // What the routes refuse, by name.
    expect(await get(`${base}/proof/inclusion?fleet=${fleet}&seq=1&size=6`)).toMatchObject({ status: 400, body: { error: { code: "unsigned_size" } } });
    expect(await get(`${base}/proof/consistency?fleet=${fleet}&from=6`)).toMatchObject({ status: 400, body: { error: { code: "unsigned_size" } } });
    expect(await get(`${base}/proof/inclusion?fleet=${fleet}&seq=8`)).toMatchObject({ status: 400, body: { error: { code: "bad_proof_request" } } });
    expect(await get(`${base}/proof/inclusion?fleet=${fleet}`)).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    expect(await get(`${base}/checkpoint?fleet=${fleet}&size=6`)).toMatchObject({ status: 404, body: { error: { code: "agent_checkpoint_not_found" } } });
    expect(await get(`/v1/log/agents/ag_${"0".repeat(32)}/checkpoint?fleet=${fleet}`)).toMatchObject({ status: 404, body: { error: { code: "agent_checkpoint_not_found" } } });
    expect(await get(`${base}/checkpoint?fleet=nobody-made-this`)).toMatchObject({ status: 404, body: { error: { code: "fleet_not_found" } } });
    const admin = (await (await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}?fleet=${fleet}`, { headers: { Authorization: "Bearer test-admin-token" } })).json()) as any;
    expect(admin.agentLog).toEqual({ size: 8, root: second.body.root });

    // Eviction: memory is gone, SQLite is not — the same answers, and the trees keep growing.
    const before = {
      checkpoint: (await get(`${base}/checkpoint?fleet=${fleet}`)).body,
      inclusion: (await get(`${base}/proof/inclusion?fleet=${fleet}&seq=6`)).body,
      consistency: consistency.body,
    };
    session.ws.close();
    await abortAllDurableObjects();
    expect((await get(`${base}/checkpoint?fleet=${fleet}`)).body).toEqual(before.checkpoint);
    expect((await get(`${base}/proof/inclusion?fleet=${fleet}&seq=6`)).body).toEqual(before.inclusion);
    expect((await get(`${base}/proof/consistency?fleet=${fleet}&from=5`)).body).toEqual(before.consistency);
    const again = await open(agent, 100);
    const last = sealed(agent, 8);
    await sendRecords(again, [last], 101);
    await ageCheckpoints(agent);
    const all = [...records, ...more, last];
    again.send({ v: 1, type: "agent_checkpoint", lamport: 102, note: signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 9, agentTree(all).root()) });
    const third = await waitFor(() => get(`${base}/checkpoint?fleet=${fleet}`), (r) => r.body.size === 9, "a checkpoint after eviction");
    // 2 key entries, records 0–4, checkpoint, records 5–7, checkpoint, record 8: the third checkpoint is entry 13.
    expect(third.body.index).toBe(13);
    // `?before=N`: the newest accepted checkpoint whose global index is below N (what a global
    // checkpoint of size N commits); none below the first; N must be a non-negative integer.
    expect((await get(`${base}/checkpoint?fleet=${fleet}&before=${third.body.index}`)).body).toMatchObject({ size: 8, note: note8, index: second.body.index });
    expect((await get(`${base}/checkpoint?fleet=${fleet}&before=${third.body.index + 1}`)).body).toMatchObject({ size: 9, index: third.body.index });
    expect((await get(`${base}/checkpoint?fleet=${fleet}&before=${second.body.index}`)).body).toMatchObject({ size: 5, note: note5, index: first.body.index });
    expect(await get(`${base}/checkpoint?fleet=${fleet}&before=${first.body.index}`)).toMatchObject({ status: 404, body: { error: { code: "agent_checkpoint_not_found" } } });
    expect(await get(`${base}/checkpoint?fleet=${fleet}&before=0`)).toMatchObject({ status: 404, body: { error: { code: "agent_checkpoint_not_found" } } });
    for (const bad of ["-1", "x", "1.5"]) {
      expect(await get(`${base}/checkpoint?fleet=${fleet}&before=${bad}`)).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    }
    expect(await get(`${base}/checkpoint?fleet=${fleet}&before=12&size=8`)).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    expect(again.of("error")).toEqual([]);
    again.ws.close();
  });

  it("backfills the tree of an agent whose records predate agent logs", async () => {
    const fleet = "agent-log-backfill";
    const agent = await enrollAgent(fleet, "old");
    const session = await open(agent, 1);
    const origin = session.of("welcome")[0]!.log.origin;
    const records = [0, 1, 2, 3, 4, 5].map((seq) => sealed(agent, seq));
    await sendRecords(session, records, 2);
    session.ws.close();
    // An older database: the records are in the global log, the agent's tree is not.
    await runInDurableObject(stubFor(fleet), (_i, state) => {
      state.storage.sql.exec(`DELETE FROM agent_log_nodes`);
      state.storage.sql.exec(`DELETE FROM agent_log_sizes`);
    });
    await abortAllDurableObjects();
    const again = await open(agent, 10);
    again.send({ v: 1, type: "agent_checkpoint", lamport: 11, note: signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 6, agentTree(records).root()) });
    const accepted = await waitFor(() => get(`/v1/log/agents/${agent.agentId}/checkpoint?fleet=${fleet}`), (r) => r.status === 200, "the checkpoint over backfilled records");
    expect(accepted.body.size).toBe(6);
    expect(again.of("error")).toEqual([]);
    again.ws.close();
  });

  it("a rewritten history (same key, another root) is agent_log_inconsistent: quarantined for good, agent.log_inconsistent in the outbox", async () => {
    const fleet = "agent-log-liar";
    const agent = await enrollAgent(fleet, "liar");
    const session = await open(agent, 1);
    const origin = session.of("welcome")[0]!.log.origin;
    const records = [0, 1, 2].map((seq) => sealed(agent, seq));
    await sendRecords(session, records, 2);
    const rewritten = [records[0]!, sealed(agent, 1, { rewritten: true }), records[2]!];
    const from = session.mark();
    session.send({ v: 1, type: "agent_checkpoint", lamport: 3, note: signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 3, agentTree(rewritten).root()) });
    const error = await session.next("error", () => true, from);
    expect(error).toMatchObject({ code: "agent_log_inconsistent", ref: "agent_checkpoint", details: { size: 3 } });
    expect(await session.next("standing", (s) => s.quarantined, from)).toMatchObject({ quarantined: true, reason: "agent log inconsistent", weight: 0 });
    const kinds = await outboxKinds(fleet);
    expect(kinds).toContain("agent.log_inconsistent");
    expect(kinds).toContain("agent.quarantined");
    expect(await get(`/v1/log/agents/${agent.agentId}/checkpoint?fleet=${fleet}`)).toMatchObject({ status: 404 });
    // Good behaviour does not lift it, across an eviction too.
    for (let k = 0; k < 5; k++) session.send({ v: 1, type: "ping", nonce: `p${k}` });
    await sendRecords(session, [sealed(agent, 3)], 4);
    await sendRecords(session, [sealed(agent, 4)], 5);
    await sendRecords(session, [sealed(agent, 5)], 6);
    session.ws.close();
    await abortAllDurableObjects();
    const again = await open(agent, 10);
    expect(again.of("standing").at(-1)).toMatchObject({ quarantined: true, reason: "agent log inconsistent" });
    again.ws.close();
  });

  it("names the refusals: checkpoint_ahead (no strike), bad_checkpoint for a wrong origin, a bad signature, a foreign key", async () => {
    const fleet = "agent-log-refusals";
    const agent = await enrollAgent(fleet, "careless");
    const session = await open(agent, 1);
    const origin = session.of("welcome")[0]!.log.origin;
    const records = [0, 1].map((seq) => sealed(agent, seq));
    await sendRecords(session, records, 2);
    const refusal = async (note: string, lamport: number) => {
      const from = session.mark();
      session.send({ v: 1, type: "agent_checkpoint", lamport, note });
      return session.next("error", () => true, from);
    };
    const ahead = await refusal(signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 3, agentTree([...records, sealed(agent, 2)]).root()), 3);
    expect(ahead).toMatchObject({ code: "checkpoint_ahead", ref: "agent_checkpoint", details: { size: 3, held: 2 } });
    const root = agentTree(records).root();
    const wrongOrigin = signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 2, root, { origin: `${origin}/agent/ag_${"1".repeat(32)}` });
    expect(await refusal(wrongOrigin, 4)).toMatchObject({ code: "bad_checkpoint", ref: "agent_checkpoint" });
    const good = signAgentCheckpoint(origin, agent.agentId, agent.secretKey, 2, root);
    expect(await refusal(tamperSignature(good), 5)).toMatchObject({ code: "bad_checkpoint" });
    const foreign = signAgentCheckpoint(origin, agent.agentId, ed25519.utils.randomSecretKey(), 2, root);
    expect(await refusal(foreign, 6)).toMatchObject({ code: "bad_checkpoint" });
    // Still connected (three strikes of ten), and the honest one goes through.
    session.send({ v: 1, type: "agent_checkpoint", lamport: 7, note: good });
    await waitFor(() => get(`/v1/log/agents/${agent.agentId}/checkpoint?fleet=${fleet}`), (r) => r.status === 200, "the honest checkpoint");
    expect(session.closed).toBeUndefined();
    session.ws.close();
  });
});
