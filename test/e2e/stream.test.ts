/**
 * End to end, real processes: the edge Worker in workerd (wrangler dev) and a `becomingone-agent
 * run` process. The agent enrolls itself, connects, streams, and every record it seals ends up
 * once in the global log, provable against a checkpoint signed by the key the edge serves.
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { verifyLedger } from "../../agent/ledger/ledger.js";
import { EDGE_CHECKPOINT_FILE, EDGE_IDENTITY_FILE } from "../../agent/link/index.js";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { base64UrlToBytes } from "../../shared/protocol/index.js";
import { verifyRecordSignature } from "../../shared/log/index.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { issueToken } from "../edge/fleet-client.js";
import type { RunningEdge } from "../support/edge.js";
import { useSuiteEdge } from "./support/suiteEdge.js";
import { agentHealth, agentMetrics, FAST_SEALING, startAgentProcess, tempDir, waitFor } from "./support/agentProcess.js";
import { expectIncluded, expectLogHoldsLedger, globalEntries, ledgerRecords, verifiedCheckpoint } from "./support/globalLog.js";

let edge: RunningEdge;
useSuiteEdge((started) => (edge = started));

async function enrollmentToken(maxUses = 1, requireApproval = false): Promise<string> {
  return (await issueToken(edge, { maxUses, requireApproval })).token;
}

describe("agent ↔ edge, end to end", () => {
  it("enrolls, connects, streams; every sealed record is in the global log once, with a verifying inclusion proof", async () => {
    const dataDir = join(tempDir("e2e-stream-"), "agent");
    const agent = startAgentProcess({ dataDir, edgeUrl: edge.url, token: await enrollmentToken(), config: FAST_SEALING });
    try {
      const { api, agentId } = await agent.ready;
      // Enrollment stored the identity, with the log key pinned from GET /v1/log/key.
      const identity = await waitFor("the stored identity", async () => {
        try {
          return JSON.parse(readFileSync(join(dataDir, EDGE_IDENTITY_FILE), "utf8")) as { agentId: string; verifierKey: string; audience: string };
        } catch {
          return undefined;
        }
      }, 30_000);
      expect(identity.agentId).toBe(agentId);
      expect(identity.verifierKey).toBe(edge.verifierKey);
      expect(identity.audience).toBe("urn:becomingone:fleet:default");

      // Streaming: records flow and get acknowledged.
      await waitFor("60 acknowledged records", async () => {
        const h = await agentHealth(api);
        return h.link === "connected" && h.ledger.acked >= 60 ? h : undefined;
      }, 60_000);
      // The agent audits the edge: checkpoints accepted, its own records proven included, nothing inconsistent.
      const m = await waitFor("the agent's log audit", async () => {
        const m = await agentMetrics(api);
        return m.checkpoints_accepted! >= 1 && m.inclusion_verified! >= 10 ? m : undefined;
      }, 30_000);
      expect(m.log_inconsistent).toBe(0);
      expect(m.inclusion_failed).toBe(0);
      expect(m.sending_halted).toBe(0);
      expect(m.summaries_sent).toBeGreaterThan(0);
      expect(m.fields_received).toBeGreaterThan(0);
      const status = await cli(["status", "--url", api]);
      expect(status.stdout).toMatch(/link\s+connected/);
      expect(status.stdout).toMatch(/edge log\s+checkpoint size [1-9]\d*, [1-9]\d* own records proven included/);

      // An operator's config change reaches the running agent.
      const patched = await fetch(`${edge.url}/v1/fleet/config`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${edge.adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ coupling: 1.5 }),
      });
      expect(patched.status).toBe(200);
      const version = ((await patched.json()) as { version: number }).version;
      await waitFor("the agent to apply the new fleet config", async () => (agent.logs().includes(`"applied fleet config","version":${version}`) ? true : undefined), 10_000);
    } finally {
      // SIGTERM: the ledger is flushed, the last records are drained to the edge, the socket closes with 1001.
      const exit = await agent.stop();
      expect(exit.code, agent.logs().slice(-3000)).toBe(0);
    }
    expect(agent.logs()).not.toMatch(/"level":"error"/);

    const ledgerDir = join(dataDir, "ledger");
    const records = ledgerRecords(ledgerDir);
    const agentId = records[0]!.agentId;
    expect(records.length).toBeGreaterThanOrEqual(60);
    const publicKey = base64UrlToBytes(
      ((await (await fetch(`${edge.url}/v1/agents/${agentId}`, { headers: { Authorization: `Bearer ${edge.adminToken}` } })).json()) as { publicKey: { x: string } }).publicKey.x,
    );
    expect(agentIdFromPublicKey(publicKey)).toBe(agentId);
    const verification = verifyLedger(ledgerDir, (r) => verifyRecordSignature(r, publicKey));
    expect(verification.problems).toEqual([]);
    expect(verification.size).toBe(records.length);

    // The global log: every record once, in order, byte for byte.
    const entries = await globalEntries(edge.url);
    expectLogHoldsLedger(entries, agentId, records);

    // Proofs against a checkpoint covering everything, its signature checked with /v1/log/key.
    const checkpoint = await waitFor("a checkpoint covering the whole log", async () => {
      const cp = await verifiedCheckpoint(edge.url, edge.verifierKey);
      return cp.size >= entries.length ? cp : undefined;
    }, 15_000);
    expect(await expectIncluded(edge.url, checkpoint, agentId, records)).toBe(records.length);

    // The checkpoint the agent kept verifies with the pinned key and is a prefix of the final one.
    const kept = openCheckpoint(readFileSync(join(dataDir, EDGE_CHECKPOINT_FILE), "utf8"), [parseVerifierKey(edge.verifierKey)]).checkpoint;
    expect(kept.size).toBeGreaterThan(0);
    expect(kept.size).toBeLessThanOrEqual(checkpoint.size);
  }, 180_000);
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../../agent/cli/main.ts", import.meta.url)), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((r) => child.once("exit", (code) => r({ code, stdout, stderr })));
}

describe("becomingone-agent enroll, then run; revocation", () => {
  it("enrolls once (idempotent), refuses a bad token with its code, and `run` connects with the stored identity until revoked", async () => {
    const root = tempDir("e2e-enroll-");
    const dataDir = join(root, "agent");
    const token = await enrollmentToken();

    const bad = await cli(["enroll", "--edge", edge.url, "--token", "bet_not-a-real-token", "--data-dir", join(root, "other")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/enrollment_token_unknown/);
    const usage = await cli(["enroll", "--data-dir", join(root, "third")]);
    expect(usage.code).toBe(2);

    const first = await cli(["enroll", "--edge", edge.url, "--token", token, "--data-dir", dataDir, "--json", "--name", "bench-pi"]);
    expect(first.code, first.stderr).toBe(0);
    const identity = JSON.parse(first.stdout) as { agentId: string; verifierKey: string; connectUrl: string };
    expect(identity.verifierKey).toBe(edge.verifierKey);
    expect(identity.connectUrl).toBe(`${edge.wsUrl}/v1/connect`);
    expect(statSync(join(dataDir, "device-key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, EDGE_IDENTITY_FILE)).mode & 0o777).toBe(0o600);
    const again = await cli(["enroll", "--edge", edge.url, "--token", token, "--data-dir", dataDir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already enrolled/);

    const agent = startAgentProcess({ dataDir, edgeUrl: edge.url, config: FAST_SEALING });
    try {
      const { api, agentId } = await agent.ready;
      expect(agentId).toBe(identity.agentId);
      await waitFor("connected", async () => ((await agentHealth(api)).link === "connected" ? true : undefined), 30_000);
      const revoked = await fetch(`${edge.url}/v1/agents/${agentId}/revoke`, { method: "POST", headers: { Authorization: `Bearer ${edge.adminToken}` } });
      expect(revoked.status).toBe(200);
      // The edge closes the socket (1008); reconnecting is refused with agent_revoked, reported as an error, retried at the cap.
      await waitFor("the refusal", async () => (agent.logs().includes("agent_revoked") ? true : undefined), 30_000);
      expect((await agentHealth(api)).link).not.toBe("connected");
      expect(agent.logs()).toMatch(/"level":"error","msg":"the edge refused the connection"/);
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  }, 120_000);
});

describe("enrollment that needs an operator's approval", () => {
  it("waits (retrying) while pending, connects once approved, and records the new status", async () => {
    const dataDir = join(tempDir("e2e-pending-"), "agent");
    const agent = startAgentProcess({ dataDir, edgeUrl: edge.url, token: await enrollmentToken(1, true), config: FAST_SEALING, env: { BECOMINGONE_LINK_BACKOFF_MAX_MS: "1000" } });
    try {
      const { api, agentId } = await agent.ready;
      await waitFor("the pending refusal", async () => (agent.logs().includes("agent_pending") ? true : undefined), 30_000);
      expect((await agentHealth(api)).link).not.toBe("connected");
      const approved = await fetch(`${edge.url}/v1/agents/${agentId}/approve`, { method: "POST", headers: { Authorization: `Bearer ${edge.adminToken}` } });
      expect(approved.status).toBe(200);
      await waitFor("connected and streaming", async () => {
        const h = await agentHealth(api);
        return h.link === "connected" && h.ledger.acked > 0 ? true : undefined;
      }, 30_000);
      const identity = JSON.parse(readFileSync(join(dataDir, EDGE_IDENTITY_FILE), "utf8")) as { status: string };
      expect(identity.status).toBe("active");
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  }, 90_000);
});
