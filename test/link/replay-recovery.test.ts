/**
 * A long replay against a scripted edge that logs like the Worker (appends seq == nextSeq, acks a
 * record it already holds again without appending it, refuses a gap with seq_gap) but loses
 * messages: dropped silently, or answered with `rate_limited` without a ref (the connection's message
 * rate, as the Worker does). The agent is the real runtime with the real link. Every record must end
 * up acknowledged, in order, logged once; and the agent must never outrun the Worker's rate.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AgentHandle } from "../../agent/runtime/agent.js";
import { AGENT_MESSAGE_BURST, AGENT_MESSAGES_PER_SECOND } from "../../agent/link/messageBudget.js";
import { LIMITS } from "../../shared/protocol/limits.js";
import { setup, stopAll, until, welcome, type Conn } from "./scriptedEdge.js";

afterEach(stopAll);

type Fate = "drop" | "rate_limited" | undefined;

interface ScriptedLog {
  /** Seqs appended, in order: the edge's copy of the agent's log. */
  readonly logged: number[];
  /** Records received again after they were logged (resent batches), acknowledged again. */
  resent: number;
  recordsMessages: number;
  rateLimitedSent: number;
  /** Arrival time (ms) of every message the agent sent, all connections. */
  readonly arrivals: number[];
  welcomedAt: number;
  /** When the edge's log first held the whole backlog. */
  fullAt: number;
}

/**
 * Per connection: waits for the agent's hello, until its ledger holds `backlog` durable records (so
 * the whole backlog is a replay), then welcomes it from the edge's log and answers like the Worker.
 * `fate(n)` decides what happens to the n-th records message (1-based, over all connections).
 * `rateBucket` applies the Worker's per-connection bucket (20/s, bursts of 40) to every message.
 */
function scriptedLog(getAgent: () => AgentHandle | undefined, backlog: number, fate: (n: number) => Fate, rateBucket = false) {
  const log: ScriptedLog = { logged: [], resent: 0, recordsMessages: 0, rateLimitedSent: 0, arrivals: [], welcomedAt: 0, fullAt: 0 };
  const rateLimited = (conn: Conn) => {
    log.rateLimitedSent++;
    const { connectionMessagesPerSecond: perSecond, connectionMessageBurst: burst } = LIMITS;
    conn.ws.send(JSON.stringify({ v: 1, type: "error", code: "rate_limited", message: `at most ${perSecond} messages per second per connection (bursts of ${burst})`, details: { perSecond, burst } }));
  };
  const behave = (conn: Conn) => {
    let welcomed = false;
    let tokens: number = LIMITS.connectionMessageBurst;
    let at = Date.now();
    conn.ws.on("message", (data) => {
      const now = Date.now();
      log.arrivals.push(now);
      if (rateBucket) {
        tokens = Math.min(LIMITS.connectionMessageBurst, tokens + ((now - at) / 1000) * LIMITS.connectionMessagesPerSecond);
        at = now;
        if (tokens < 1) return rateLimited(conn);
        tokens -= 1;
      }
      const msg = JSON.parse(data.toString()) as { type: string; records?: { seq: number }[] };
      if (msg.type === "hello" && !welcomed) {
        welcomed = true;
        const agent = getAgent()!;
        void until("the backlog", () => agent.ledger.durableCount >= backlog, 20_000).then(() => {
          log.welcomedAt = Date.now();
          conn.ws.send(JSON.stringify(welcome(agent.agentId, log.logged.length, 2)));
        });
        return;
      }
      if (msg.type !== "records") return;
      const n = ++log.recordsMessages;
      const f = fate(n);
      if (f === "drop") return;
      if (f === "rate_limited") return rateLimited(conn);
      const acks: { seq: number; index: number }[] = [];
      for (const r of msg.records!) {
        if (r.seq < log.logged.length) {
          log.resent++;
          acks.push({ seq: r.seq, index: r.seq });
          continue;
        }
        if (r.seq > log.logged.length) {
          const expected = log.logged.length;
          conn.ws.send(JSON.stringify({ v: 1, type: "error", code: "seq_gap", message: `expected seq ${expected}`, ref: "records", details: { expected, got: r.seq } }));
          break;
        }
        log.logged.push(r.seq);
        acks.push({ seq: r.seq, index: r.seq });
      }
      if (log.fullAt === 0 && log.logged.length >= backlog) log.fullAt = Date.now();
      conn.ws.send(JSON.stringify({ v: 1, type: "ack", acks, nextSeq: log.logged.length, lamport: 6000 }));
    });
  };
  return { log, behave };
}

function appendBacklog(agent: AgentHandle, count: number): void {
  for (let i = 0; i < count; i++) agent.ledger.append("witness.report", { i, pad: "r".repeat(200) });
}

function expectLoggedOnceInOrder(log: ScriptedLog, agent: AgentHandle): void {
  expect(log.logged.length).toBeGreaterThanOrEqual(agent.ledger.ackedCount);
  expect(log.logged).toEqual(log.logged.map((_, i) => i));
}

describe("replay after a long outage, against an edge that loses messages", () => {
  it("resends batches the edge dropped silently (no ack, no error) and logs every record once, in order", async () => {
    let agentRef: AgentHandle | undefined;
    // Records messages 5–12: more than a whole window (4 batches) in a row, so no later batch
    // reaches the edge to draw a seq_gap; only the agent's own watchdog can notice.
    const { log, behave } = scriptedLog(() => agentRef, 2000, (n) => (n >= 5 && n <= 12 ? "drop" : undefined));
    const { agent, link, lines } = await setup(behave);
    agentRef = agent;
    appendBacklog(agent, 2000);
    await until("the whole backlog acknowledged", () => link.state() === "connected" && agent.ledger.ackedCount >= 2000, 30_000);
    expectLoggedOnceInOrder(log, agent);
    expect(link.stats().replay_rewinds).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.msg === "records in flight were not acknowledged; resending from the last ack")).toBe(true);
  }, 45_000);

  it("resends what a rate_limited without ref dropped, and does not take it for a refused summary", async () => {
    let agentRef: AgentHandle | undefined;
    const { log, behave } = scriptedLog(() => agentRef, 2000, (n) => (n >= 5 && n <= 12 ? "rate_limited" : undefined));
    const { agent, link, lines } = await setup(behave);
    agentRef = agent;
    appendBacklog(agent, 2000);
    await until("the whole backlog acknowledged", () => link.state() === "connected" && agent.ledger.ackedCount >= 2000, 30_000);
    expectLoggedOnceInOrder(log, agent);
    const stats = link.stats();
    expect(stats.rate_limited).toBe(log.rateLimitedSent);
    expect(stats.replay_rewinds).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.msg === "the edge refused a summary")).toBe(false);
    expect(lines.some((l) => /connection rate limit/.test(l.msg))).toBe(true);
  }, 45_000);

  it("paces a large replay within the Worker's per-connection rate: nothing rate-limited", async () => {
    let agentRef: AgentHandle | undefined;
    const backlog = 4000;
    const { log, behave } = scriptedLog(() => agentRef, backlog, () => undefined, true);
    const { agent, link } = await setup(behave);
    agentRef = agent;
    appendBacklog(agent, backlog);
    await until("the backlog", () => agent.ledger.durableCount >= backlog, 20_000);
    // Stop waiting at the first rate_limited too: unpaced, the replay stalls there.
    await until("the whole backlog acknowledged (or a rate_limited)", () => log.rateLimitedSent > 0 || agent.ledger.ackedCount >= backlog, 40_000);
    let maxPerSecond = 0;
    for (let i = 0, j = 0; i < log.arrivals.length; i++) {
      while (log.arrivals[i]! - log.arrivals[j]! >= 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, i - j + 1);
    }
    const seconds = Math.max(0.001, ((log.fullAt || Date.now()) - log.welcomedAt) / 1000);
    const during = log.arrivals.filter((t) => t >= log.welcomedAt && t <= (log.fullAt || Date.now())).length;
    console.log(
      `replay of ${backlog} records: ${seconds.toFixed(2)} s from welcome to the last ack, ${(backlog / seconds).toFixed(0)} records/s; ` +
        `${during} messages meanwhile (${(during / seconds).toFixed(1)}/s), at most ${maxPerSecond} in any 1 s; ${log.recordsMessages} records messages`,
    );
    expect(log.rateLimitedSent).toBe(0);
    expect(link.stats().rate_limited).toBe(0);
    expect(agent.ledger.ackedCount).toBeGreaterThanOrEqual(backlog);
    expectLoggedOnceInOrder(log, agent);
    // The agent's own bucket bounds any 1 s window to its burst plus a second of its rate.
    // (+4: slack for arrivals bunched by the shared event loop; unpaced, it would be hundreds).
    expect(maxPerSecond).toBeLessThanOrEqual(AGENT_MESSAGE_BURST + AGENT_MESSAGES_PER_SECOND + 4);
  }, 60_000);
});
