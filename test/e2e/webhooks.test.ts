/**
 * Webhooks end to end: the real edge (wrangler dev, local-development mode), a real HTTP receiver in
 * this process that verifies every signature with the independent `standardwebhooks` package, and
 * real agent processes. Enrolling, connecting, going offline after `kill -9`, being quarantined and
 * released, and a sealed sync collapse each produce their event at the receiver; restarting the
 * edge with deliveries pending loses none and repeats none that got a 2xx.
 *
 * The quarantine is provoked the only way an honest agent can meet it: on the wire. The agent talks
 * to the edge through a proxy (test/support/tamper-proxy.ts) that forges the Lamport clock of one of
 * its summaries; the agent itself is unmodified and stays honest, so once it reconnects (the proxy
 * cuts the connection) the edge releases it.
 *
 * A sync collapse is sealed by the agent's engine only when its Master and Emissary agree, which no
 * input a test can feed a real agent process reliably produces in seconds (a constant stream
 * dissipates); the collapse record therefore comes from a protocol-level agent (its own Ed25519 key,
 * a real WebSocket, the same sealing code), as does the log report.
 */
import { join as joinPath } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { sealedRecord } from "../edge/agent-identity.js";
import { call, enrollNew, issueToken, join } from "../edge/fleet-client.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { startTamperProxy, type TamperProxy } from "../support/tamper-proxy.js";
import { startReceiver, type ReceivedRequest, type Receiver } from "../support/webhook-receiver.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, waitFor } from "./support/agentProcess.js";

let edge: RunningEdge;
let receiver: Receiver;
let proxy: TamperProxy;

beforeAll(async () => {
  edge = await startEdge({ vars: { WEBHOOKS_ALLOW_LOOPBACK: "1", WEBHOOKS_RETRY_SCHEDULE_MS: "0,1000,1000,1000,1000,1000" } });
  receiver = await startReceiver();
  proxy = await startTamperProxy(edge.port);
  const created = await call(edge, "POST", "/v1/webhooks/endpoints", { body: { url: `${receiver.url}/becomingone`, description: "e2e" } });
  expect(created.status).toBe(201);
  receiver.secrets = [created.body.secret];
  // Offline 2 s after the last socket and message (the fleet's debounce).
  expect((await call(edge, "PATCH", "/v1/fleet/config", { body: { offlineAfterMs: 2000 } })).status).toBe(200);
});

afterAll(async () => {
  await proxy?.close();
  await receiver?.close();
  await edge?.dispose();
  removeTempDirs();
});

interface Event {
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
  readonly request: ReceivedRequest;
}

function events(): Event[] {
  return receiver.requests.map((request) => ({ ...(JSON.parse(request.body) as Omit<Event, "request">), request }));
}

/** The first event of `type` (for the agent, when given) that arrives within the timeout. */
async function event(type: string, agentId?: string, timeoutMs = 30_000): Promise<Event> {
  return waitFor(`${type} at the receiver`, async () => events().find((e) => e.type === type && (agentId === undefined || e.data.agentId === agentId)), timeoutMs, 50);
}

describe("webhooks with real agents", () => {
  it("a real agent: enrol, connect, quarantine and release, kill -9 → offline; each event arrives, signed, within a second", async () => {
    const dataDir = joinPath(tempDir("e2e-webhooks-"), "agent");
    const { token } = await issueToken(edge);
    const agent = startAgentProcess({ dataDir, edgeUrl: proxy.url, token, config: FAST_SEALING });
    try {
      const { agentId } = await agent.ready;
      const enrolled = await event("agent.enrolled", agentId);
      expect(enrolled.data).toMatchObject({ agentId, status: "active" });
      const online = await event("agent.online", agentId);

      // A forged clock on the wire: quarantined; the honest agent's next messages release it.
      const forged = await proxy.tamperNext((m) => (m.type === "summary" ? { ...m, lamport: Number(m.lamport) + 1_000_000 } : null));
      expect(forged.type).toBe("summary");
      const quarantined = await event("agent.quarantined", agentId);
      expect(String(quarantined.data.reason)).toMatch(/Lamport jump/);
      // The forged clock became the agent's baseline, so its honest clocks now read as replays until
      // it opens a new session (a hello sets the baseline): cut the connection; it reconnects by itself.
      proxy.dropConnections();
      const released = await event("agent.released", agentId);
      expect(Date.parse(released.timestamp)).toBeGreaterThanOrEqual(Date.parse(quarantined.timestamp));

      const killedAt = Date.now();
      await agent.kill9();
      const offline = await event("agent.offline", agentId);
      console.log(
        `webhooks e2e: enrolled→online ${Date.parse(online.timestamp) - Date.parse(enrolled.timestamp)} ms; offline event ${offline.request.receivedAt - killedAt} ms after kill -9 (offlineAfterMs 2000)`,
      );
      const delays = events().map((e) => `${e.type} ${e.request.receivedAt - Date.parse(e.timestamp)} ms`);
      console.log(`webhooks e2e: change → receiver: ${delays.join(", ")}`);
      for (const e of events()) {
        expect(e.request.verifyError, e.type).toBeNull();
        // Delivered within a second of the change it reports.
        expect(e.request.receivedAt - Date.parse(e.timestamp), e.type).toBeLessThan(1000);
      }
    } finally {
      await agent.kill9();
    }
  }, 180_000);

  it("a sealed sync.collapse record and an agent's log report become sync.collapse and log.inconsistency", async () => {
    const enrolled = await enrollNew(edge, "collapser");
    const client = await join(enrolled, 1);
    try {
      const payload = { synchronizedCoherence: 0.93, tokens: 812 };
      const record = recordToWire(sealRecord({ agentId: enrolled.agentId, seq: 0, kind: "sync.collapse", timestamp: Date.now(), payloadJson: JSON.stringify(payload) }, enrolled.agent.secretKey));
      client.send({ v: 1, type: "records", lamport: 2, records: [record, sealedRecord(enrolled.agent, enrolled.agentId, 1)] });
      const ack = await client.next("ack");
      expect(ack.acks).toHaveLength(2);
      const collapse = await event("sync.collapse", enrolled.agentId);
      expect(collapse.data).toEqual({ agentId: enrolled.agentId, seq: 0, index: ack.acks[0]!.index, sealedAtMs: record.timestamp, sealedAt: new Date(record.timestamp).toISOString(), payload });
      // Only the collapse: the memory record next to it is no event.
      expect(events().filter((e) => e.data.agentId === enrolled.agentId).map((e) => e.type)).not.toContain("memory");
      // Provable in the global log at the index the event names, once a checkpoint covers it.
      const proof = await waitFor("a checkpoint covering the collapse", async () => {
        const res = await call(edge, "GET", `/v1/log/proof/inclusion?agent=${enrolled.agentId}&seq=0`, { token: null });
        return res.status === 200 ? res.body : undefined;
      }, 10_000);
      expect(proof).toMatchObject({ leafIdx: collapse.data.index });

      const report = { kind: "consistency", reason: "consistency proof 1 → 2 does not verify", evidence: { keptSize: 1, size: 2 } };
      client.send({ v: 1, type: "log_report", lamport: 3, ...report });
      client.send({ v: 1, type: "log_report", lamport: 4, ...report }); // within the hour: no second event
      const inconsistency = await event("log.inconsistency", enrolled.agentId);
      expect(inconsistency.data).toEqual({ agentId: enrolled.agentId, ...report });
      await new Promise((r) => setTimeout(r, 1500));
      expect(events().filter((e) => e.type === "log.inconsistency")).toHaveLength(1);
      for (const e of events()) expect(e.request.verifyError, e.type).toBeNull();
    } finally {
      client.close();
    }
  }, 60_000);

  it("restarting the edge with deliveries pending loses none and repeats none that got a 2xx", async () => {
    // Its own receiver and endpoint, so no event of the tests above can take a scripted answer.
    const own = await startReceiver();
    try {
      const created = await call(edge, "POST", "/v1/webhooks/endpoints", { body: { url: `${own.url}/restart`, eventTypes: ["webhook.test"] } });
      own.secrets = [created.body.secret];
      const id = created.body.endpoint.id as string;
      own.script(500, 500, 500);
      for (let i = 0; i < 3; i++) expect((await call(edge, "POST", `/v1/webhooks/endpoints/${id}/test`)).status).toBe(202);
      // Each test event's first attempt fails; their retries are pending when the edge stops.
      await own.waitFor(3);
      await edge.stop();
      await edge.restart();
      const all = await own.waitFor(6, 60_000);
      const ids = all.map((r) => r.id);
      expect(new Set(ids).size).toBe(3);
      for (const msg of new Set(ids)) expect(ids.filter((x) => x === msg)).toHaveLength(2);
      // Nothing that was answered 2xx comes again, now or after another restart.
      await edge.stop();
      await edge.restart();
      await new Promise((r) => setTimeout(r, 3000));
      expect(own.requests).toHaveLength(6);
      for (const r of own.requests) expect(r.verifyError).toBeNull();
    } finally {
      await own.close();
    }
  }, 180_000);
});
