/**
 * Issue 11, hostile clocks: no number one agent sends can make what the edge sends to the others
 * invalid, a clock jump never moves the fleet clock, and the drift rules neither flag a healthy
 * (not yet locked, jittery) agent nor miss a sustained one. Real sockets into the Fleet object in
 * workerd; every frame the edge sends is decoded with the protocol's own schema.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { ADMIN, agentView, connect, enrollAgent, open, type TestAgent } from "./fleet-agent.js";

/** The protocol's largest Lamport clock (LIMITS.lamportMax), spelled out so this file also runs against older code. */
const CLOCK_MAX = 2 ** 48;
/** The largest step one accepted message may move the fleet clock: the causal bound's cap, plus the receive tick. */
const MAX_ABSORB_STEP = 128 + 1;

const record = (agent: TestAgent, seq: number) =>
  recordToWire(sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, agent.secretKey));

const stub = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

/** The fleet clock as persisted in SQLite. */
const fleetClock = (fleet: string) =>
  runInDurableObject(stub(fleet), (_i, state) => Number(state.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'lamport'`).toArray()[0]?.value ?? "0"));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a hostile clock cannot poison the fleet", () => {
  it("a hello at 2^53-1, a jumping summary and a jumping records batch leave every frame to an honest agent schema-valid and the fleet clock within the bound, across a restart", async () => {
    const fleet = "clock-poison";
    const honest = await enrollAgent(fleet);
    const hostile = await enrollAgent(fleet);
    const first = await open(honest, 5);
    const before = await fleetClock(fleet);

    // 2^53 - 1 is a safe integer; the edge must not adopt it (it is refused outright by the schema).
    const poisoner = await connect(hostile);
    poisoner.send({ v: 1, type: "hello", agentId: hostile.agentId, lamport: Number.MAX_SAFE_INTEGER });
    await sleep(200);
    // The largest legal clock on first contact: a baseline for that agent, a bounded step for the fleet.
    poisoner.send({ v: 1, type: "hello", agentId: hostile.agentId, lamport: CLOCK_MAX });
    await poisoner.next("welcome");
    expect(await fleetClock(fleet)).toBeLessThanOrEqual(before + 2 * MAX_ABSORB_STEP);

    // A jump far beyond the causal bound from the honest agent's own session: quarantined, never absorbed.
    const settled = await fleetClock(fleet);
    const mark = first.mark();
    first.send({ v: 1, type: "summary", lamport: 1_000_000_000, t: Date.now(), theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 });
    await first.next("error", (e) => e.code === "lamport_jump", mark);
    first.send({ v: 1, type: "records", lamport: 2_000_000_000_000, records: [record(honest, 0)] });
    await first.next("ack", (a) => a.nextSeq === 1, mark);
    await first.next("error", (e) => e.code === "lamport_jump" && e.ref === "records", mark);
    const afterJumps = await fleetClock(fleet);
    // A handful of receive/broadcast ticks, never the jump.
    expect(afterJumps - settled).toBeLessThan(50);

    // A second honest agent sees only valid frames: welcome, field, standing, ack.
    const other = await enrollAgent(fleet);
    const second = await open(other, 1);
    second.send({ v: 1, type: "summary", lamport: 3, t: Date.now(), theta: 0.1, omega: 0, coherence: 0.5, tokenHz: 20 });
    // The field that holds it before the records: the test is about frame validity, not about two
    // frames sent back to back being handled in order on a loaded machine.
    await second.next("field", (f) => f.n >= 1);
    second.send({ v: 1, type: "records", lamport: 4, records: [record(other, 0)] });
    await second.next("ack", (a) => a.nextSeq === 1);
    expect(second.invalid).toEqual([]);
    expect(first.invalid).toEqual([]);
    for (const m of [...second.of("welcome"), ...second.of("ack"), ...second.of("field")]) expect(m.lamport).toBeLessThanOrEqual(CLOCK_MAX);

    // The clock is persisted: a restarted object reads back the same bounded value and keeps serving valid frames.
    const persisted = await fleetClock(fleet);
    await abortAllDurableObjects();
    expect(await fleetClock(fleet)).toBe(persisted);
    const third = await open(other, 10);
    await third.next("field");
    expect(third.invalid).toEqual([]);
    expect(third.of("welcome")[0]!.lamport).toBeLessThan(afterJumps + 50);
    for (const s of [first, second, third, poisoner]) s.ws.close(1000, "done");
  }, 30_000);

  it("refuses clocks above the protocol maximum and other unbounded numbers with bad_message", async () => {
    const agent = await enrollAgent("clock-bounds");
    const session = await open(agent, 1);
    const bad: Record<string, unknown>[] = [
      { v: 1, type: "summary", lamport: CLOCK_MAX + 1, t: Date.now(), theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 },
      { v: 1, type: "summary", lamport: 3, t: 1e300, theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 },
      { v: 1, type: "summary", lamport: 3, t: Date.now(), theta: 1e300, omega: 0, coherence: 0.5, tokenHz: 20 },
      { v: 1, type: "summary", lamport: 3, t: Date.now(), theta: 0, omega: 0, coherence: 0.5, tokenHz: 20, phaseDrift: 1e300 },
      { v: 1, type: "records", lamport: CLOCK_MAX + 1, records: [record(agent, 0)] },
      { v: 1, type: "hello", agentId: agent.agentId, lamport: 2, agentLog: { size: 1e300, root: "A".repeat(43) + "=" } },
    ];
    for (const message of bad) {
      const mark = session.mark();
      session.send(message);
      const error = await session.next("error", () => true, mark);
      expect(error.code, JSON.stringify(message).slice(0, 80)).toBe("bad_message");
    }
    expect(session.invalid).toEqual([]);
    session.ws.close(1000, "done");
  }, 60_000);
});

describe("the drift rules do not flag healthy agents", () => {
  it("keeps an agent that is not yet locked (phase gap 0.8 rad, low coherence) and whose summaries arrive jittered in the field", async () => {
    const agent = await enrollAgent("clock-healthy");
    const patched = await exports.default.fetch(`http://edge.test/v1/fleet/config?fleet=clock-healthy`, { method: "PATCH", headers: ADMIN, body: JSON.stringify({ drift: { minPeerCoherence: 0.5 } }) });
    expect(patched.status).toBe(200);
    const session = await open(agent, 1);
    // Sampled every 500 ms at 20 Hz (10 ticks, plus the send), but delivered in pairs 100 ms apart:
    // the arrival gaps say 100 ms, the agent's own timestamps say 500 ms.
    const t0 = Date.now() - 4000;
    let lamport = 10;
    for (let i = 0; i < 8; i++) {
      lamport += 11;
      session.send({ v: 1, type: "summary", lamport, t: t0 + i * 500, theta: 0.8, omega: 0, coherence: 0.05, tokenHz: 20, phaseDrift: 0.8 });
      await sleep(i % 2 === 0 ? 100 : 900);
    }
    await session.next("field", (f) => f.n === 1);
    expect(session.of("standing").filter((s) => s.quarantined)).toEqual([]);
    expect(session.of("error")).toEqual([]);
    expect(await agentView(agent)).toMatchObject({ quarantine: null, weight: 1, inField: true });
    session.ws.close(1000, "done");
  }, 30_000);

  it("flags a clock that runs far faster than its declared rate only once it is sustained, and clears it only after a sustained recovery", async () => {
    const agent = await enrollAgent("clock-drifter");
    // Two steady agents beside it: the flag excludes a drifter only while steady agents outnumber drifters.
    const steady = await Promise.all([enrollAgent("clock-drifter"), enrollAgent("clock-drifter")]);
    const steadySessions = await Promise.all(steady.map((s) => open(s, 1)));
    const session = await open(agent, 1);
    let lamport = 1;
    let steadyLamport = 1;
    const start = Date.now();
    const summary = (i: number, ticks: number) => {
      lamport += ticks;
      session.send({ v: 1, type: "summary", lamport, t: start + i * 500, theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 });
      steadyLamport += 11;
      for (const s of steadySessions) s.send({ v: 1, type: "summary", lamport: steadyLamport, t: start + i * 500, theta: 0, omega: 0, coherence: 0.5, tokenHz: 20 });
    };
    // 30 ticks per 500 ms while declaring 20 Hz (10 ticks): 3× the declared rate.
    let i = 0;
    const flaggedAt: number[] = [];
    for (; i < 12 && flaggedAt.length === 0; i++) {
      summary(i, 31);
      await sleep(500);
      const quarantined = session.of("standing").find((s) => s.quarantined);
      if (quarantined) flaggedAt.push(i);
    }
    const standing = await session.next("standing", (s) => s.quarantined);
    expect(standing.reason).toMatch(/^causal drift: /);
    // Not on the first violating summary: the rule waits for a sustained violation.
    expect(flaggedAt[0]).toBeGreaterThanOrEqual(2);
    expect(session.of("error")).toEqual([]);
    expect(await agentView(agent)).toMatchObject({ weight: 0, inField: false });
    for (const s of steady) expect(await agentView(s)).toMatchObject({ weight: 1, inField: true });
    // Back to the declared rate: cleared, but not on the first good summary.
    const mark = session.mark();
    const goodFrom = i;
    let clearedAfter = -1;
    for (; i < goodFrom + 16 && clearedAfter < 0; i++) {
      summary(i, 11);
      await sleep(500);
      if (session.of("standing", mark).some((s) => !s.quarantined)) clearedAfter = i - goodFrom + 1;
    }
    expect(clearedAfter).toBeGreaterThan(2);
    expect(await agentView(agent)).toMatchObject({ weight: 1, quarantine: null });
    for (const s of [session, ...steadySessions]) s.ws.close(1000, "done");
  }, 60_000);

  it("never empties the field: an agent flagged for drift stays in it while no steady agent outnumbers it", async () => {
    const agent = await enrollAgent("clock-lone-drifter");
    const session = await open(agent, 1);
    let lamport = 1;
    const start = Date.now();
    for (let i = 0; i < 16 && !session.of("standing").some((s) => s.quarantined); i++) {
      lamport += 31;
      session.send({ v: 1, type: "summary", lamport, t: start + i * 500, theta: 1, omega: 0, coherence: 0.5, tokenHz: 20 });
      await sleep(500);
    }
    expect((await session.next("standing", (s) => s.quarantined)).reason).toMatch(/^causal drift: /);
    // Flagged and visible as such, yet still the field's one member.
    expect(await agentView(agent)).toMatchObject({ weight: 0, inField: true });
    const mark = session.mark();
    lamport += 31;
    session.send({ v: 1, type: "summary", lamport, t: start + 17 * 500, theta: 1, omega: 0, coherence: 0.5, tokenHz: 20 });
    expect((await session.next("field", () => true, mark)).n).toBe(1);
    session.ws.close(1000, "done");
  }, 60_000);
});
