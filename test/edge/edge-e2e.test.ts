/**
 * End to end against the real Worker in workerd (wrangler dev): enrollment, an authenticated `ws`
 * socket, summaries and records, field and acks, and every record proven in the global log with the
 * shared verifier against the key the edge publishes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { hashLeaf, recordLeafHash, verifyConsistency, verifyInclusion } from "../../shared/log/index.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes, recordFromWire, type WireRecord } from "../../shared/protocol/index.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { sealedRecord } from "./agent-identity.js";
import { call, connect, enroll, enrollNew, issueToken, join, sleep } from "./fleet-client.js";

let edge: RunningEdge;

beforeAll(async () => {
  edge = await startEdge();
});

afterAll(async () => {
  await edge?.dispose();
});

const b64 = (text: string) => base64ToBytes(text);

describe("edge end to end", () => {
  it("enrolls, connects, syncs, and proves every record in the signed global log", async () => {
    const created = await call(edge, "POST", "/v1/enrollment-tokens", { body: { name: "lab", maxUses: 3 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ maxUses: 3, name: "lab" });
    expect(created.body.token).toMatch(/^bet_/);
    expect(Date.parse(created.body.expiresAt)).toBeGreaterThan(Date.now());

    const enrolled = await enroll(edge, created.body.token, "pi-e2e");
    expect(enrolled.status).toBe("active");
    expect(enrolled.connectUrl).toBe(`${edge.wsUrl}/v1/connect`);

    const client = await connect(enrolled);
    client.send({ v: 1, type: "hello", agentId: enrolled.agentId, lamport: 10, software: "e2e/1" });
    const welcome = await client.next("welcome");
    expect(welcome.resume).toEqual({ nextSeq: 0, lastAckedSeq: null });
    expect(welcome.config.summaryHz).toBe(2);
    expect(welcome.log.verifierKey).toBe(edge.verifierKey);
    await client.next("standing", (s) => !s.quarantined);

    // Summaries: the agent joins the field (n = 1, r = 1 for a single oscillator).
    const mark = client.messages.length;
    client.send({ v: 1, type: "summary", lamport: 11, t: Date.now(), theta: 1.0, omega: 0, coherence: 0.9, tokenHz: 20 });
    const field = await client.next("field", (f) => f.n === 1, { from: mark });
    expect(field.r).toBeCloseTo(1, 9);
    expect(field.psi).toBeCloseTo(1.0, 9);

    // Records 0-4, then a replay of 3-4: acknowledged again with the same indices, not appended twice.
    const records: WireRecord[] = [0, 1, 2, 3, 4].map((seq) => sealedRecord(enrolled.agent, enrolled.agentId, seq, { memory: `m${seq}` }));
    client.send({ v: 1, type: "records", lamport: 12, records });
    const ack = await client.next("ack", (a) => a.nextSeq === 5);
    expect(ack.acks.map((a) => a.seq)).toEqual([0, 1, 2, 3, 4]);
    const indexOf = new Map(ack.acks.map((a) => [a.seq, a.index]));
    client.send({ v: 1, type: "records", lamport: 13, records: records.slice(3) });
    const reAck = await client.next("ack", (a) => a.acks.length === 2 && a.acks[0]!.seq === 3);
    expect(reAck.acks).toEqual([
      { seq: 3, index: indexOf.get(3) },
      { seq: 4, index: indexOf.get(4) },
    ]);
    // The log's first entries are the agent's key entries (enrolled, approved), then its records.
    const KEYS = 2;
    expect([...indexOf.values()]).toEqual([KEYS, KEYS + 1, KEYS + 2, KEYS + 3, KEYS + 4]);
    const checkpoint1 = await client.next("checkpoint", (c) => c.size >= KEYS + 5);
    expect(checkpoint1.size).toBe(KEYS + 5);

    // More records, a second checkpoint.
    const more = [5, 6, 7].map((seq) => sealedRecord(enrolled.agent, enrolled.agentId, seq, { memory: `m${seq}` }));
    client.send({ v: 1, type: "records", lamport: 14, records: more });
    const ack2 = await client.next("ack", (a) => a.nextSeq === 8);
    for (const a of ack2.acks) indexOf.set(a.seq, a.index);
    const checkpoint2 = await client.next("checkpoint", (c) => c.size >= KEYS + 8);
    expect(checkpoint2.size).toBe(KEYS + 8);
    // At most one checkpoint per second while the tree grows (the key entries' one may come first).
    const checkpointMsgs = client.messages.filter((m) => m.type === "checkpoint" && m.size > KEYS);
    expect(checkpointMsgs.length).toBeLessThanOrEqual(2);

    // The auditor's side: the published key, the signed checkpoints, the proofs.
    const keyText = (await call(edge, "GET", "/v1/log/key", { token: null })).body as string;
    expect(keyText.trim()).toBe(edge.verifierKey);
    const verifier = parseVerifierKey(keyText.trim());
    const origin = `127.0.0.1:${edge.port}/fleet/default`;
    const cp1 = openCheckpoint(checkpoint1.note, [verifier], { origin }).checkpoint;
    const published = await call(edge, "GET", "/v1/log/checkpoint", { token: null });
    expect(published.status).toBe(200);
    expect(published.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(published.headers.get("cache-control")).toMatch(/public/);
    const cp2 = openCheckpoint(published.body as string, [verifier], { origin }).checkpoint;
    expect(cp2.size).toBe(KEYS + 8);

    for (const wire of [...records, ...more]) {
      const res = await call(edge, "GET", `/v1/log/proof/inclusion?agent=${enrolled.agentId}&seq=${wire.seq}&size=${cp2.size}`, { token: null });
      expect(res.status).toBe(200);
      expect(res.body.leafIdx).toBe(indexOf.get(wire.seq));
      const leafHash = recordLeafHash(recordFromWire(wire));
      expect(res.body.leafHash).toBe(Buffer.from(leafHash).toString("base64"));
      // Verified against the root in the SIGNED checkpoint, not the root the proof response claims.
      verifyInclusion(leafHash, res.body.leafIdx, res.body.treeSize, res.body.proof.map(b64), cp2.root);
      const byIndex = await call(edge, "GET", `/v1/log/proof/inclusion?index=${res.body.leafIdx}&size=${cp2.size}`, { token: null });
      expect(byIndex.body).toMatchObject({ leafIdx: res.body.leafIdx, treeSize: KEYS + 8, proof: res.body.proof });
    }
    // The batch route (what an agent's auditor uses): the same proofs, one request.
    const wanted = [7, 0, 3];
    const batch = await call(edge, "GET", `/v1/log/proof/inclusions?indices=${wanted.join(",")}&size=${cp2.size}`, { token: null });
    expect(batch.status).toBe(200);
    expect(batch.headers.get("cache-control")).toMatch(/immutable/);
    expect(batch.body.treeSize).toBe(KEYS + 8);
    expect(batch.body.proofs.map((p: { leafIdx: number }) => p.leafIdx)).toEqual(wanted);
    for (const p of batch.body.proofs as { leafIdx: number; leafHash: string; proof: string[] }[]) {
      const single = await call(edge, "GET", `/v1/log/proof/inclusion?index=${p.leafIdx}&size=${cp2.size}`, { token: null });
      expect(p).toMatchObject({ leafHash: single.body.leafHash, proof: single.body.proof, treeSize: KEYS + 8 });
      verifyInclusion(b64(p.leafHash), p.leafIdx, KEYS + 8, p.proof.map(b64), cp2.root);
    }
    const consistency = await call(edge, "GET", `/v1/log/proof/consistency?from=${cp1.size}&to=${cp2.size}`, { token: null });
    expect(consistency.status).toBe(200);
    expect(consistency.body).toMatchObject({ size1: KEYS + 5, size2: KEYS + 8 });
    verifyConsistency(cp1.size, cp2.size, consistency.body.proof.map(b64), cp1.root, cp2.root);
    expect(() => verifyConsistency(cp1.size, cp2.size, consistency.body.proof.map(b64), cp2.root, cp2.root)).toThrow();

    const entries = await call(edge, "GET", `/v1/log/entries?start=0&end=${KEYS + 8}`, { token: null });
    expect(entries.status).toBe(200);
    expect(entries.body.entries).toHaveLength(KEYS + 8);
    expect(entries.headers.get("cache-control")).toMatch(/immutable/);
    // The empty page at the log's end is not final: caching it would pin an old size.
    const atEnd = await call(edge, "GET", `/v1/log/entries?start=${KEYS + 8}&end=${KEYS + 8}`, { token: null });
    expect(atEnd.body.entries).toHaveLength(0);
    expect(atEnd.headers.get("cache-control")).not.toMatch(/immutable/);
    expect(entries.body.entries.slice(0, KEYS)).toMatchObject([
      { type: "key", agentId: enrolled.agentId, key: { event: "enrolled", publicKey: Buffer.from(enrolled.agent.publicKey).toString("base64") } },
      { type: "key", agentId: enrolled.agentId, key: { event: "approved" } },
    ]);
    for (const entry of entries.body.entries.slice(KEYS)) {
      expect(Buffer.from(hashLeaf(b64(entry.leaf))).toString("base64")).toBe(
        Buffer.from(recordLeafHash(recordFromWire([...records, ...more].find((r) => r.seq === entry.seq)!))).toString("base64"),
      );
    }

    // The operator sees it all.
    const view = await call(edge, "GET", `/v1/agents/${enrolled.agentId}`);
    expect(view.body).toMatchObject({ id: enrolled.agentId, status: "active", connected: true, online: true, nextSeq: 8, quarantine: null, weight: 1, software: "e2e/1" });
    client.close();

    // Reconnecting resumes where the acks left off.
    await sleep(200);
    const again = await connect(enrolled);
    again.send({ v: 1, type: "hello", agentId: enrolled.agentId, lamport: 20 });
    expect((await again.next("welcome")).resume).toEqual({ nextSeq: 8, lastAckedSeq: 7 });
    again.close();
  });

  it("aligns phases to a common time and broadcasts r, psi, Omega, N over healthy agents", async () => {
    const { token } = await issueToken(edge, { maxUses: 2 }, "field");
    const a = await enroll(edge, token, "a", "field");
    const b = await enroll(edge, token, "b", "field");
    expect(a.connectUrl).toBe(`${edge.wsUrl}/v1/connect?fleet=field`);
    const ca = await join(a);
    const cb = await join(b);
    const now = Date.now();
    // Same frequency, reported at different times: aligned to one time they are π/2 apart.
    ca.send({ v: 1, type: "summary", lamport: 2, t: now, theta: 0, omega: 1, coherence: 0.9, tokenHz: 20 });
    cb.send({ v: 1, type: "summary", lamport: 2, t: now - 500, theta: Math.PI / 2 - 0.5, omega: 1, coherence: 0.9, tokenHz: 20 });
    const field = await ca.next("field", (f) => f.n === 2);
    expect(field.r).toBeCloseTo(Math.SQRT1_2, 6);
    expect(field.omega).toBeCloseTo(1, 9);
    // ψ at the field's time t: both advanced by ω·(t − now) from their aligned phases 0 and π/2.
    expect(field.psi).toBeCloseTo(Math.PI / 4 + (field.t - now) / 1000, 6);
    // Membership change: b leaves, the field is rebroadcast at once with n = 1.
    const mark = ca.messages.length;
    cb.close();
    const after = await ca.next("field", (f) => f.n === 1, { from: mark, timeoutMs: 5000 });
    expect(after.r).toBeCloseTo(1, 9);
    const fleet = await call(edge, "GET", "/v1/fleet?fleet=field");
    expect(fleet.body).toMatchObject({ fleetId: "field", agents: { total: 2, active: 2 } });
    ca.close();
  });

  it("broadcasts the field at fieldHz (2 Hz) for as long as agents are connected", async () => {
    const enrolled = await enrollNew(edge, "listener", "rate");
    const client = await join(enrolled);
    const start = Date.now();
    await sleep(4000);
    const fields = client.messages.filter((m) => m.type === "field" && m.t >= start && m.t <= start + 4000);
    // 8 at exactly 2 Hz; alarms may slip a little under load, but the chain must never stop.
    expect(fields.length).toBeGreaterThanOrEqual(4);
    expect(fields.length).toBeLessThanOrEqual(10);
    client.close();
  });

  it("quarantines a Lamport replay with a visible reason and lifts it when the agent is healthy again", async () => {
    const enrolled = await enrollNew(edge, "replayer", "causal");
    const client = await join(enrolled, 100);
    client.send({ v: 1, type: "summary", lamport: 101, t: Date.now(), theta: 0, omega: 0, coherence: 0.9, tokenHz: 20 });
    await client.next("field", (f) => f.n === 1);
    await sleep(600);
    client.send({ v: 1, type: "summary", lamport: 50, t: Date.now(), theta: 0, omega: 0, coherence: 0.9, tokenHz: 20 });
    const error = await client.next("error", (e) => e.code === "lamport_replay");
    expect(error.message).toMatch(/non-monotonic Lamport replay/);
    const standing = await client.next("standing", (s) => s.quarantined);
    expect(standing.weight).toBe(0);
    const view = await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=causal`);
    expect(view.body.quarantine.reason).toMatch(/replay/);
    expect(view.body.weight).toBe(0);
    expect(view.body.inField).toBe(false);
    const fleet = await call(edge, "GET", "/v1/fleet?fleet=causal");
    expect(fleet.body.field.n).toBe(0);
    expect(fleet.body.agents.quarantined).toBe(1);
    // Three valid summaries in a row lift it.
    for (const lamport of [102, 103, 104]) {
      await sleep(600);
      client.send({ v: 1, type: "summary", lamport, t: Date.now(), theta: 0, omega: 0, coherence: 0.9, tokenHz: 20 });
    }
    await client.next("standing", (s) => !s.quarantined, { from: client.messages.indexOf(standing) + 1 });
    const healed = await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=causal`);
    expect(healed.body).toMatchObject({ quarantine: null, weight: 1, inField: true });
    client.close();
  });

  it("quarantines a causal jump beyond the dynamic bound", async () => {
    const enrolled = await enrollNew(edge, "jumper", "jump");
    const client = await join(enrolled, 5);
    client.send({ v: 1, type: "summary", lamport: 6, t: Date.now(), theta: 0, omega: 0, coherence: 0.9, tokenHz: 1 });
    await client.next("field", (f) => f.n === 1);
    await sleep(600);
    client.send({ v: 1, type: "summary", lamport: 100_000, t: Date.now(), theta: 0, omega: 0, coherence: 0.9, tokenHz: 1 });
    const error = await client.next("error", (e) => e.code === "lamport_jump");
    expect(error.message).toMatch(/exceeds dynamic causal bound 32/);
    const view = await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=jump`);
    expect(view.body.quarantine.reason).toMatch(/Lamport jump/);
    client.close();
  });

  // Issue 11 changed this deliberately: low coherence and a phase gap used to set weight 0 on the
  // first summary (so agents not yet locked left the field); now only a sustained clock overshoot does.
  it("keeps an unlocked, low-coherence agent in the field even with the reference's coherence floor set, and flags it (weight 0) only on a sustained clock overshoot", async () => {
    const enrolled = await enrollNew(edge, "drifter", "drift");
    expect((await call(edge, "PATCH", "/v1/fleet/config?fleet=drift", { body: { drift: { minPeerCoherence: 0.5 } } })).status).toBe(200);
    const client = await join(enrolled, 1);
    let lamport = 1;
    const start = Date.now();
    const summary = (i: number, ticks: number) => {
      lamport += ticks;
      client.send({ v: 1, type: "summary", lamport, t: start + i * 550, theta: 0, omega: 0, coherence: 0.2, tokenHz: 20, phaseDrift: 0.9 });
    };
    // At its declared 20 Hz (11 ticks per 550 ms), coherence 0.2 and a 0.9 rad phase gap: in the field.
    for (let i = 0; i < 3; i++) {
      summary(i, 12);
      await sleep(550);
    }
    await client.next("field", (f) => f.n === 1);
    expect(client.messages.filter((m) => m.type === "standing" && m.quarantined)).toEqual([]);
    expect((await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=drift`)).body).toMatchObject({ weight: 1, inField: true, quarantine: null });
    // 40 ticks per 550 ms while declaring 20 Hz: within the jump bound each time, but sustained.
    const mark = client.messages.length;
    for (let i = 3; i < 10; i++) {
      summary(i, 40);
      await sleep(550);
    }
    const standing = await client.next("standing", (s) => s.quarantined, { from: mark });
    expect(standing.reason).toMatch(/^causal drift: sustained Lamport overshoot/);
    expect(client.messages.filter((m) => m.type === "error")).toEqual([]);
    // Weight 0 and flagged; alone in its fleet it stays the field's member, since the soft flag never
    // empties the field (test/workers/fleet-clock.test.ts shows it excluded beside steady agents).
    expect((await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=drift`)).body).toMatchObject({ weight: 0, inField: true, quarantine: { reason: standing.reason } });
    client.close();
  });

  it("replaces an agent's older connection with its newer one (close 4000)", async () => {
    const enrolled = await enrollNew(edge, "twice", "twice");
    const first = await join(enrolled);
    const second = await join(enrolled, 5);
    expect((await first.waitClosed()).code).toBe(4000);
    second.send({ v: 1, type: "ping", nonce: "still-here" });
    expect((await second.next("pong")).nonce).toBe("still-here");
    expect((await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=twice`)).body.connected).toBe(true);
    second.close();
  });

  it("answers protocol abuse with error codes, rate-limits summaries, and closes with 1008 on repeated abuse", async () => {
    const enrolled = await enrollNew(edge, "abuser", "abuse");
    const client = await connect(enrolled);
    client.send({ v: 1, type: "summary", lamport: 1, t: Date.now(), theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 });
    expect((await client.next("error")).code).toBe("hello_required");
    client.send({ v: 1, type: "hello", agentId: enrolled.agentId, lamport: 1 });
    await client.next("welcome");
    client.send("{not json");
    expect((await client.next("error", (e) => e.code === "bad_json")).code).toBe("bad_json");
    client.send({ v: 2, type: "summary" });
    expect((await client.next("error", (e) => e.code === "unsupported_version")).ref).toBe("summary");
    client.send({ v: 1, type: "summary", lamport: "x" });
    expect((await client.next("error", (e) => e.code === "bad_message")).message).toMatch(/lamport/);
    client.send({ v: 1, type: "hello", agentId: "ag_" + "0".repeat(32), lamport: 2 });
    await client.next("error", (e) => e.code === "agent_mismatch");
    client.send(JSON.stringify({ v: 1, type: "ping", nonce: "x".repeat(300 * 1024) }));
    await client.next("error", (e) => e.code === "message_too_large");
    // Two back to back pass (the burst); the third within the same instant is refused.
    for (const lamport of [3, 4, 5]) client.send({ v: 1, type: "summary", lamport, t: Date.now(), theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 });
    const limited = await client.next("error", (e) => e.code === "rate_limited");
    expect(limited.details).toEqual({ summaryHz: 2, burst: 2 });
    expect(client.messages.filter((m) => m.type === "error" && m.code === "rate_limited")).toHaveLength(1);
    client.send({ v: 1, type: "ping", nonce: "n1" });
    expect((await client.next("pong")).nonce).toBe("n1");
    for (let i = 0; i < 12; i++) client.send("garbage");
    const closed = await client.waitClosed();
    expect(closed.code).toBe(1008);
  });

  it("limits any flood of valid messages per connection and closes a persistent flooder with 1008", async () => {
    const enrolled = await enrollNew(edge, "flooder", "flood");
    const client = await join(enrolled);
    // One strike per 40 refused messages (a lagging object may refuse a honest agent's bunched
    // queue once; only a flood refuses hundreds): 600 at once is 560 refused, 14 strikes.
    for (let i = 0; i < 600; i++) client.send({ v: 1, type: "ping", nonce: String(i) });
    const limited = await client.next("error", (e) => e.code === "rate_limited");
    expect(limited.details).toEqual({ perSecond: 20, burst: 40 });
    expect((await client.waitClosed()).code).toBe(1008);
    const pongs = client.messages.filter((m) => m.type === "pong").length;
    expect(pongs).toBeGreaterThanOrEqual(39);
    expect(pongs).toBeLessThanOrEqual(45);
  });

  it("pushes a versioned config to connected agents when the operator changes it", async () => {
    const enrolled = await enrollNew(edge, "configured", "config");
    const client = await join(enrolled);
    const res = await call(edge, "PATCH", "/v1/fleet/config?fleet=config", { body: { coupling: 1.5, fieldHz: 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 2, coupling: 1.5, fieldHz: 1, summaryHz: 2 });
    const pushed = await client.next("config");
    expect(pushed.config).toEqual(res.body);
    const bad = await call(edge, "PATCH", "/v1/fleet/config?fleet=config", { body: { coupling: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_body");
    client.close();
  });

  it("keeps a pending agent out until approved, and revoking closes its socket at once", async () => {
    const { token } = await issueToken(edge, { requireApproval: true }, "approval");
    const enrolled = await enroll(edge, token, "needs-ok", "approval");
    expect(enrolled.status).toBe("pending");
    await expect(connect(enrolled)).rejects.toMatchObject({ status: 401, code: "agent_pending" });
    expect(await call(edge, "GET", "/v1/agents/ag_00000000000000000000000000000000?fleet=approval")).toMatchObject({ status: 404, body: { error: { code: "agent_not_found" } } });
    const approved = await call(edge, "POST", `/v1/agents/${enrolled.agentId}/approve?fleet=approval`);
    expect(approved.body.status).toBe("active");
    const client = await join(enrolled);
    const revoked = await call(edge, "POST", `/v1/agents/${enrolled.agentId}/revoke?fleet=approval`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe("revoked");
    const closed = await client.waitClosed(5000);
    expect(closed.code).toBe(1008);
    await expect(connect(enrolled)).rejects.toMatchObject({ status: 401, code: "agent_revoked" });
    const reapprove = await call(edge, "POST", `/v1/agents/${enrolled.agentId}/approve?fleet=approval`);
    expect(reapprove).toMatchObject({ status: 409, body: { error: { code: "agent_revoked" } } });
  });

  it("survives a stop and restart of the Worker: same URL, state and log, the agent resumes", async () => {
    const enrolled = await enrollNew(edge, "partitioned", "restart");
    const client = await join(enrolled, 1);
    const records = [0, 1, 2].map((seq) => sealedRecord(enrolled.agent, enrolled.agentId, seq));
    client.send({ v: 1, type: "records", lamport: 2, records });
    await client.next("ack", (a) => a.nextSeq === 3);
    // Its key entries (enrolled, approved) are the log's first two entries.
    await client.next("checkpoint", (c) => c.size === 5);
    const before = (await call(edge, "GET", "/v1/log/checkpoint?fleet=restart", { token: null })).body as string;
    const url = edge.url;

    await edge.stop();
    expect(edge.running).toBe(false);
    await client.waitClosed(15_000);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    await edge.restart();
    expect(edge.url).toBe(url);

    expect((await call(edge, "GET", "/v1/log/checkpoint?fleet=restart", { token: null })).body).toBe(before);
    // Its socket died with the process: the registry says so, before the agent is back (online until
    // offlineAfterMs passes with no socket: presence.ts).
    expect((await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=restart`)).body).toMatchObject({ connected: false, inField: false, nextSeq: 3 });
    const again = await connect(enrolled);
    again.send({ v: 1, type: "hello", agentId: enrolled.agentId, lamport: 10 });
    expect((await again.next("welcome")).resume).toEqual({ nextSeq: 3, lastAckedSeq: 2 });
    // A record replayed across the restart is acknowledged again, never appended twice.
    again.send({ v: 1, type: "records", lamport: 11, records: [records[2]!, sealedRecord(enrolled.agent, enrolled.agentId, 3)] });
    const ack = await again.next("ack", (a) => a.nextSeq === 4);
    expect(ack.acks.map((a) => [a.seq, a.index])).toEqual([
      [2, 4],
      [3, 5],
    ]);
    again.close();
  });
});
