/**
 * The link against a hostile or broken edge: a real WebSocket server (the `ws` package) that checks
 * the connect JWT like the Worker does, then misbehaves on purpose — garbage frames, refusals,
 * abrupt closes, impossible resume points. The agent is the real runtime (startAgent) with the real
 * link attached; nothing an edge sends may crash it or make it send out of order.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ackRecords, setup, stopAll, until, welcome } from "./scriptedEdge.js";

afterEach(stopAll);

describe("link against a hostile edge", () => {
  it("survives garbage frames, then streams in order at the fleet's summary rate", async () => {
    let agentIdRef = "";
    const { agent, edge, link } = await setup((conn) => {
      conn.ws.once("message", () => {
        conn.ws.send(Buffer.from([1, 2, 3]), { binary: true });
        conn.ws.send("not json");
        conn.ws.send(JSON.stringify({ v: 2, type: "welcome" }));
        conn.ws.send(JSON.stringify({ v: 1, type: "ack", acks: "x", nextSeq: -1, lamport: 1 }));
        conn.ws.send(JSON.stringify({ v: 1, type: "nonsense" }));
        conn.ws.send(JSON.stringify({ v: 1, type: "field", r: 2, psi: 0, omega: 0, n: 1, t: 0, lamport: 1, configVersion: 1 }));
        conn.ws.send("x".repeat(300 * 1024));
        conn.ws.send(JSON.stringify(welcome(agentIdRef, 0, 4)));
        // Schema-valid, but a clock that would overflow the agent's Lamport clock: ignored.
        conn.ws.send(JSON.stringify({ v: 1, type: "ack", acks: [], nextSeq: 0, lamport: Number.MAX_SAFE_INTEGER }));
        conn.ws.send(JSON.stringify({ v: 1, type: "field", r: 0.5, psi: 1, omega: 1, n: 2, t: Date.now(), lamport: 5001, configVersion: 1 }));
        ackRecords(conn);
      });
    });
    agentIdRef = agent.agentId;
    await until("records acknowledged", () => agent.ledger.ackedCount >= 20);
    const stats = link.stats();
    expect(stats.invalid_messages).toBe(8);
    expect(agent.lamport.time).toBeLessThan(1_000_000);
    expect(link.state()).toBe("connected");
    expect(agent.mesh.view(Date.now()).field?.n).toBe(2);
    const conn = edge.conns[0]!;
    // hello first, with the agent's log head; Lamport merged from the welcome before any summary.
    expect(conn.received[0]).toMatchObject({ v: 1, type: "hello", agentId: agent.agentId });
    const seqs = conn.received.filter((m) => m.type === "records").flatMap((m) => (m.records as { seq: number }[]).map((r) => r.seq));
    expect(seqs).toEqual(seqs.map((_, i) => i));
    await until("a few summaries", () => conn.summaryAt.length >= 4);
    const summaries = conn.received.filter((m) => m.type === "summary") as { lamport: number }[];
    expect(summaries[0]!.lamport).toBeGreaterThan(5000);
    for (let i = 1; i < conn.summaryAt.length; i++) expect(conn.summaryAt[i]! - conn.summaryAt[i - 1]!).toBeGreaterThanOrEqual(0.75 * 250 - 5);
    await agent.stop();
    await until("the close", () => conn.closeCode !== undefined);
    expect(conn.closeCode).toBe(1001);
  });

  it("reconnects with a fresh single-use JWT after abrupt closes and resumes where the edge says", async () => {
    let agentIdRef = "";
    let resumeFrom = -1;
    const { agent, edge, link } = await setup((conn, n) => {
      conn.ws.once("message", () => {
        if (n <= 3) {
          conn.ws.terminate(); // no close frame: like a crashed edge
          return;
        }
        // The edge already holds the first records (from "an earlier session").
        resumeFrom = Math.min(5, agent.ledger.durableCount);
        conn.ws.send(JSON.stringify(welcome(agentIdRef, resumeFrom, 2)));
        ackRecords(conn, resumeFrom);
      });
    });
    agentIdRef = agent.agentId;
    await until("connected", () => link.state() === "connected" && edge.conns.length >= 4, 15_000);
    await until("records acknowledged", () => agent.ledger.ackedCount >= 10);
    expect(new Set(edge.jtis).size).toBe(edge.jtis.length);
    expect(edge.lifetimes.every((l) => l > 0 && l <= 120)).toBe(true);
    const last = edge.conns[edge.conns.length - 1]!;
    const seqs = last.received.filter((m) => m.type === "records").flatMap((m) => (m.records as { seq: number }[]).map((r) => r.seq));
    expect(seqs).toEqual(seqs.map((_, i) => resumeFrom + i));
  });

  it("drops a connection that went silent (half-open after a partition) and reconnects", async () => {
    let agentIdRef = "";
    const { agent, edge, lines } = await setup(
      (conn) => {
        // Welcomes, then never says anything again (and never answers pings).
        conn.ws.once("message", () => conn.ws.send(JSON.stringify(welcome(agentIdRef, 0))));
      },
      { pingIntervalMs: 100, silenceLimitMs: 400 },
    );
    agentIdRef = agent.agentId;
    await until("a reconnect after silence", () => edge.conns.length >= 2, 10_000);
    expect(lines.some((l) => l.msg === "edge silent; dropping the connection")).toBe(true);
    expect(edge.conns[0]!.received.some((m) => m.type === "ping")).toBe(true);
  });

  it("drops a connection the edge keeps talking on but stops reading, skipping summaries meanwhile", async () => {
    let agentIdRef = "";
    const { agent, edge, lines, link } = await setup(
      (conn, n) => {
        conn.ws.once("message", () => {
          // 4 summaries and 4 pings a second leave the records half of the agent's message budget
          // (16/s); 10 + 10 would leave them none (and break the edge's 20/s on their own).
          conn.ws.send(JSON.stringify(welcome(agentIdRef, 0, 4)));
          if (n > 1) return ackRecords(conn);
          // Stop reading (what the agent sends piles up: kernel buffers, then the agent's own), but
          // keep answering, so the silence watchdog alone would never notice.
          conn.socket.pause();
          const chatter = setInterval(() => conn.ws.send(JSON.stringify({ v: 1, type: "pong", nonce: "x", serverTime: Date.now() })), 50);
          conn.ws.on("close", () => clearInterval(chatter));
        });
      },
      { pingIntervalMs: 250, silenceLimitMs: 1000, sendBufferLimitBytes: 4096 },
    );
    agentIdRef = agent.agentId;
    // ≈ 12 MB of records: more than loopback's kernel buffers absorb here (between 2.4 and 7 MB), so
    // the rest waits in the agent's socket buffer (without the guard the test times out).
    for (let i = 0; i < 200; i++) agent.ledger.append("witness.report", { i, pad: "p".repeat(60_000) });
    await until("a reconnect after the edge stopped reading", () => edge.conns.length >= 2, 30_000);
    expect(lines.some((l) => l.msg === "the edge is not reading; dropping the connection")).toBe(true);
    expect(lines.some((l) => l.msg === "edge silent; dropping the connection")).toBe(false);
    expect(link.stats().summaries_skipped).toBeGreaterThan(0);
  }, 40_000);

  it("stops sending, loudly, when the edge claims more records than the ledger has", async () => {
    let agentIdRef = "";
    const { agent, link, lines, edge } = await setup((conn) => {
      conn.ws.once("message", () => conn.ws.send(JSON.stringify(welcome(agentIdRef, 1_000_000))));
    });
    agentIdRef = agent.agentId;
    await until("connected", () => link.state() === "connected");
    await new Promise((r) => setTimeout(r, 500));
    expect(link.stats().sending_halted).toBe(1);
    expect(lines.some((l) => l.level === "error" && /more records than this ledger/.test(l.msg))).toBe(true);
    expect(edge.conns[0]!.received.some((m) => m.type === "records")).toBe(false);
  });

  it("stops, on SIGTERM-like shutdown, even while it cannot reach the edge", async () => {
    const { agent, edge, link } = await setup((conn) => conn.ws.terminate());
    await until("a few attempts", () => edge.conns.length >= 2);
    const t0 = Date.now();
    await agent.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(link.state()).toBe("closed");
  });
});
