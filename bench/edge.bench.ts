/**
 * The coordinator under load: many real agents (ws clients) against the real Worker in workerd
 * (wrangler dev), all on this machine. Summaries at 2 Hz each, field fan-out delay, record batches
 * with their ack latency and append throughput.
 */
import { startEdge } from "../test/support/edge.js";
import { sealedRecord } from "../test/edge/agent-identity.js";
import { enroll, issueToken, join, sleep, type Enrollment } from "../test/edge/fleet-client.js";
import type { SocketClient } from "../test/edge/socket-client.js";
import type { BenchSection } from "./section.js";

const AGENTS = Number(process.env.EDGE_BENCH_AGENTS ?? 100);
const SUMMARY_SECONDS = 6;
const BATCHES = 5;
const BATCH_SIZE = 16;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export default async function edgeBench(): Promise<BenchSection> {
  const edge = await startEdge({ vars: { ENROLL_RATE_PER_MINUTE: String(AGENTS * 2) } });
  const clients: SocketClient[] = [];
  try {
    const { token } = await issueToken(edge, { maxUses: AGENTS });
    const enrolled: Enrollment[] = [];
    for (let i = 0; i < AGENTS; i++) enrolled.push(await enroll(edge, token, `bench-${i}`));

    const joinTimes: number[] = [];
    for (const agent of enrolled) {
      const start = performance.now();
      clients.push(await join(agent));
      joinTimes.push(performance.now() - start);
    }

    // Summaries at 2 Hz per agent, staggered; the field's fan-out delay is receive time − field.t.
    const fieldDelays: number[] = [];
    const marks = clients.map((c) => c.messages.length);
    const summaryStart = Date.now();
    let sent = 0;
    // Each agent's Lamport clock: 10 ticks per summary (20 Hz), then one per records batch, so every
    // clock stays causally plausible (the edge quarantines jumps, records included).
    const clocks = clients.map(() => 10);
    const timers = clients.map((client, i) => {
      const send = () => {
        const lamport = (clocks[i]! += 10);
        client.send({ v: 1, type: "summary", lamport, t: Date.now(), theta: (i / AGENTS) * 2 * Math.PI, omega: 2 * Math.PI, coherence: 0.9, tokenHz: 20 });
        sent++;
      };
      return setTimeout(() => {
        send();
        const interval = setInterval(send, 500);
        timers.push(interval as unknown as ReturnType<typeof setTimeout>);
      }, (i * 500) / AGENTS);
    });
    await sleep(SUMMARY_SECONDS * 1000);
    for (const t of timers) clearTimeout(t);
    for (const t of timers) clearInterval(t as unknown as ReturnType<typeof setInterval>);
    const summaryElapsed = (Date.now() - summaryStart) / 1000;
    let rateLimited = 0;
    let lastN = 0;
    for (const [i, client] of clients.entries()) {
      for (const m of client.messages.slice(marks[i])) {
        if (m.type === "error" && m.code === "rate_limited") rateLimited++;
        if (m.type === "field") lastN = Math.max(lastN, m.n);
      }
    }
    for (const client of clients) for (const [at, t] of client.fieldArrivals) if (t >= summaryStart) fieldDelays.push(at - t);

    // Records: each agent sends BATCHES batches of BATCH_SIZE, awaiting each ack. Signed beforehand,
    // so the timing is the edge's (verify, append, ack), not this process signing.
    const batches = enrolled.map((agent) =>
      Array.from({ length: BATCHES }, (_, b) => Array.from({ length: BATCH_SIZE }, (_, k) => sealedRecord(agent.agent, agent.agentId, b * BATCH_SIZE + k, { b, k }))),
    );
    const ackLatencies: number[] = [];
    const recordStart = performance.now();
    await Promise.all(
      clients.map(async (client, i) => {
        for (let b = 0; b < BATCHES; b++) {
          const records = batches[i]![b]!;
          const from = client.messages.length;
          const start = performance.now();
          client.send({ v: 1, type: "records", lamport: (clocks[i]! += 1), records });
          await client.next("ack", (a) => a.nextSeq === (b + 1) * BATCH_SIZE, { from, timeoutMs: 60_000 });
          ackLatencies.push(performance.now() - start);
        }
      }),
    );
    const recordSeconds = (performance.now() - recordStart) / 1000;
    const totalRecords = AGENTS * BATCHES * BATCH_SIZE;

    const fanoutP99 = percentile(fieldDelays, 99);
    const ackP99 = percentile(ackLatencies, 99);
    return {
      title: `Edge coordinator: ${AGENTS} agents, one Fleet object, wrangler dev on this machine`,
      rows: [
        { metric: "connect + hello → welcome, p50", value: `${percentile(joinTimes, 50).toFixed(1)} ms` },
        { metric: "summaries accepted", value: `${(sent / summaryElapsed).toFixed(0)}/s (${sent - rateLimited} of ${sent})`, target: "every one at 2 Hz per agent", pass: rateLimited === 0 },
        { metric: "agents in the field", value: String(lastN), target: String(AGENTS), pass: lastN === AGENTS },
        { metric: "field fan-out delay (edge t → agent), p50", value: `${percentile(fieldDelays, 50).toFixed(1)} ms` },
        { metric: "field fan-out delay, p99", value: `${fanoutP99.toFixed(1)} ms`, target: "< 500 ms", pass: fanoutP99 < 500 },
        { metric: `records batch of ${BATCH_SIZE} → ack, p50`, value: `${percentile(ackLatencies, 50).toFixed(1)} ms` },
        { metric: `records batch of ${BATCH_SIZE} → ack, p99`, value: `${ackP99.toFixed(1)} ms`, target: "< 1000 ms", pass: ackP99 < 1000 },
        { metric: "records verified and appended", value: `${(totalRecords / recordSeconds).toFixed(0)}/s (${totalRecords} records, ${AGENTS} agents in parallel)` },
      ],
    };
  } finally {
    for (const client of clients) client.close();
    await edge.dispose();
  }
}
