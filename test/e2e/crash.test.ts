/**
 * Crash safety end to end: `kill -9` the agent at random moments while it streams to the real edge,
 * many times over one data dir. After every kill the ledger verifies (frames, seqs, signatures,
 * Merkle root; a torn tail is allowed and cut on the next start), nothing fsynced is ever lost, and
 * the edge never holds more of the agent's records than the ledger. At the end the global log holds
 * every record that was fsynced, each once, byte for byte.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyLedger } from "../../agent/ledger/ledger.js";
import { verifyRecordSignature } from "../../shared/log/index.js";
import { base64UrlToBytes } from "../../shared/protocol/index.js";
import { issueToken } from "../edge/fleet-client.js";
import type { RunningEdge } from "../support/edge.js";
import { useSuiteEdge } from "./support/suiteEdge.js";
import { agentHealth, FAST_SEALING, startAgentProcess, tempDir, waitFor } from "./support/agentProcess.js";
import { expectIncluded, expectLogHoldsLedger, globalEntries, ledgerRecords, verifiedCheckpoint } from "./support/globalLog.js";

const TRIALS = 20;

let edge: RunningEdge;
useSuiteEdge((started) => (edge = started));

const adminGet = async (path: string) =>
  (await (await fetch(`${edge.url}${path}`, { headers: { Authorization: `Bearer ${edge.adminToken}` } })).json()) as Record<string, unknown>;

describe("kill -9 while streaming", () => {
  it(`${TRIALS} random kills: the ledger always verifies and the global log ends with every fsynced record once`, async () => {
    const dataDir = join(tempDir("e2e-crash-"), "agent");
    const ledgerDir = join(dataDir, "ledger");
    const { token } = await issueToken(edge, { maxUses: 3 });
    // A kill during the very first enrollment is possible, so every start carries the token (ignored once enrolled).
    const start = () => startAgentProcess({ dataDir, edgeUrl: edge.url, token, config: FAST_SEALING });

    let agentId: string | undefined;
    let publicKey: Uint8Array | undefined;
    let lastSize = 0;
    let edgeNextSeq = 0;
    const log: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const agent = start();
      // Mostly while streaming; every fifth kill lands during start-up (enrollment, connect, replay).
      const early = trial % 5 === 4;
      let delay: number;
      if (early) {
        delay = 100 + Math.floor(Math.random() * 700);
        await new Promise((r) => setTimeout(r, delay));
      } else {
        const { agentId: id } = await agent.ready;
        agentId ??= id;
        delay = 200 + Math.floor(Math.random() * 1300);
        await new Promise((r) => setTimeout(r, delay));
      }
      const exit = await agent.kill9();
      expect(exit.signal).toBe("SIGKILL");

      if (agentId !== undefined && publicKey === undefined) {
        const view = await adminGet(`/v1/agents/${agentId}`);
        if (view.publicKey) publicKey = base64UrlToBytes((view.publicKey as { x: string }).x);
      }
      const verification = verifyLedger(ledgerDir, (r) => (publicKey ? verifyRecordSignature(r, publicKey) : true));
      expect(verification.problems, `trial ${trial}`).toEqual([]);
      // Nothing fsynced is lost: the ledger only grows across crashes.
      expect(verification.size).toBeGreaterThanOrEqual(lastSize);
      lastSize = verification.size;
      // The edge only ever received durable records.
      if (agentId !== undefined) {
        const view = await adminGet(`/v1/agents/${agentId}`);
        if (typeof view.nextSeq === "number") {
          expect(view.nextSeq, `trial ${trial}`).toBeLessThanOrEqual(verification.size);
          edgeNextSeq = view.nextSeq;
        }
      }
      log.push(`trial ${trial}: ${early ? "early " : ""}kill after ${delay} ms, ledger ${verification.size} records, torn ${verification.tornBytes} B, edge holds ${edgeNextSeq}`);
    }
    expect(agentId).toBeDefined();
    expect(lastSize).toBeGreaterThan(50);
    // Records reached the edge between the kills, not only in the final run.
    expect(edgeNextSeq).toBeGreaterThan(lastSize / 2);

    // One clean run without input: it replays what the edge lacks; SIGTERM drains the rest.
    const final = startAgentProcess({ dataDir, edgeUrl: edge.url, config: FAST_SEALING, stream: false });
    const { api } = await final.ready;
    await waitFor("the edge to hold every durable record", async () => {
      const h = await agentHealth(api);
      return h.link === "connected" && h.ledger.acked === h.ledger.durable && h.ledger.durable >= lastSize ? h : undefined;
    }, 60_000);
    expect((await final.stop()).code).toBe(0);
    expect(final.logs()).not.toMatch(/seq_conflict|INCONSISTENT/);

    const records = ledgerRecords(ledgerDir);
    expect(records.length).toBeGreaterThanOrEqual(lastSize);
    const entries = await globalEntries(edge.url);
    expectLogHoldsLedger(entries, agentId!, records);
    const checkpoint = await waitFor("a checkpoint covering the log", async () => {
      const cp = await verifiedCheckpoint(edge.url, edge.verifierKey);
      return cp.size >= entries.length ? cp : undefined;
    }, 15_000);
    // Spot-check inclusion proofs (all of them would be slow and prove nothing more).
    const sample = records.filter((_, i) => i % 25 === 0 || i === records.length - 1);
    expect(await expectIncluded(edge.url, checkpoint, agentId!, sample)).toBe(sample.length);
    console.log(log.join("\n"));
  }, 300_000);
});
