/**
 * Partition end to end: the real edge Worker is stopped for 30 s while the agent streams, then
 * started again on the same persisted state. The agent reconnects by itself (capped, jittered
 * backoff), resumes from the edge's last acknowledged seq, and the global log ends with every
 * record, each once, in per-agent order.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { issueToken } from "../edge/fleet-client.js";
import type { RunningEdge } from "../support/edge.js";
import { useSuiteEdge } from "./support/suiteEdge.js";
import { agentHealth, agentMetrics, FAST_SEALING, startAgentProcess, tempDir, waitFor } from "./support/agentProcess.js";
import { expectIncluded, expectLogHoldsLedger, globalEntries, ledgerRecords, verifiedCheckpoint } from "./support/globalLog.js";

const PARTITION_MS = 30_000;

let edge: RunningEdge;
useSuiteEdge((started) => (edge = started));

describe("edge partition", () => {
  it("the agent rides out a 30 s edge outage and the global log ends with every record in per-agent order", async () => {
    const dataDir = join(tempDir("e2e-partition-"), "agent");
    const { token } = await issueToken(edge);
    const agent = startAgentProcess({ dataDir, edgeUrl: edge.url, token, config: FAST_SEALING });
    let agentId: string;
    try {
      const ready = await agent.ready;
      agentId = ready.agentId;
      const api = ready.api;
      const before = await waitFor("records acknowledged before the outage", async () => {
        const h = await agentHealth(api);
        return h.link === "connected" && h.ledger.acked >= 20 ? h : undefined;
      }, 60_000);

      await edge.stop();
      const cutAt = Date.now();
      // The agent notices and keeps streaming into its ledger; the clock never waits on the network.
      await waitFor("the link to notice", async () => ((await agentHealth(api)).link !== "connected" ? true : undefined), 10_000);
      const states = new Set<string>();
      while (Date.now() - cutAt < PARTITION_MS) {
        states.add((await agentHealth(api)).link);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const during = await agentHealth(api);
      expect(during.ledger.durable).toBeGreaterThan(before.ledger.durable + 100);
      expect(during.ledger.acked).toBeLessThan(during.ledger.durable);
      expect([...states].every((s) => s === "backoff" || s === "connecting")).toBe(true);

      await edge.restart();
      const upAt = Date.now();
      let reconnectedAt = 0;
      const back = await waitFor("the agent to reconnect and catch up", async () => {
        const h = await agentHealth(api);
        if (h.link === "connected" && reconnectedAt === 0) reconnectedAt = Date.now();
        return h.link === "connected" && h.ledger.acked >= during.ledger.durable ? h : undefined;
      }, 60_000, 100);
      console.log(
        `partition: ${during.ledger.durable - during.ledger.acked} records backlog; reconnected ${reconnectedAt - upAt} ms after the edge was back, caught up ${Date.now() - upAt} ms after`,
      );
      expect(back.ledger.acked).toBeGreaterThanOrEqual(during.ledger.durable);
      const m = await agentMetrics(api);
      expect(m.sessions).toBeGreaterThanOrEqual(2);
      expect(m.log_inconsistent).toBe(0);
    } finally {
      expect((await agent.stop()).code, agent.logs().slice(-3000)).toBe(0);
    }
    expect(agent.logs()).toMatch(/edge connection lost; reconnecting/);

    const records = ledgerRecords(join(dataDir, "ledger"));
    const entries = await globalEntries(edge.url);
    const mine = expectLogHoldsLedger(entries, agentId, records);
    expect(mine.length).toBe(records.length);
    const checkpoint = await waitFor("a checkpoint covering the log", async () => {
      const cp = await verifiedCheckpoint(edge.url, edge.verifierKey);
      return cp.size >= entries.length ? cp : undefined;
    }, 15_000);
    const sample = records.filter((_, i) => i % 20 === 0 || i === records.length - 1);
    expect(await expectIncluded(edge.url, checkpoint, agentId, sample)).toBe(sample.length);
  }, 240_000);
});
