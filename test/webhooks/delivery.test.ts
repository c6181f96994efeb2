/**
 * Webhook delivery over real SQLite (sql.js) to a real HTTP receiver on loopback, with real fetch.
 * Time is injected (`clock`, `run(now)`) so retries on the schedule need no waiting; the receiver
 * still verifies every signature with the independent `standardwebhooks` package against the real
 * clock, so the injected time stays within its 5-minute tolerance.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendAttempt, countAttempts } from "../../edge/webhooks/attempt-log.js";
import { WebhookService, type WebhookServiceOptions } from "../../edge/webhooks/webhook-service.js";
import { appendOutbox, type OutboxData, type OutboxKind } from "../../edge/fleet/outbox.js";
import type { FleetStorage } from "../../edge/fleet/sql-database.js";
import { migrateSchema } from "../../edge/fleet/sql-schema.js";
import { Webhook } from "standardwebhooks";
import { envelopeSchema, parseSecret } from "../../shared/webhooks/index.js";
import { openMemoryStorage, type MemoryFleetStorage } from "../support/sql-js-database.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";

const AGENT = "ag_" + "ab".repeat(16);

/** The fleet's own schema (its outbox among it), as the Fleet object creates it. */
function createOutbox(storage: FleetStorage): void {
  migrateSchema(storage.sql);
}

/** An event as the fleet writes one: appended in the transaction of its change. */
function emit(storage: FleetStorage, kind: OutboxKind, data: OutboxData, at: number): void {
  storage.transaction(() => appendOutbox(storage.sql, kind, data, at));
}

function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; error: { code: string } }): T {
  if (!outcome.ok) throw new Error(`failed: ${outcome.error.code}`);
  return outcome.value;
}

let storage: MemoryFleetStorage;
let receiver: Receiver;
let now: number;

beforeEach(async () => {
  storage = openMemoryStorage();
  createOutbox(storage);
  receiver = await startReceiver();
  now = Date.now();
});

afterEach(async () => {
  await receiver.close();
  storage.close();
});

function service(options: Partial<WebhookServiceOptions> = {}): WebhookService {
  return new WebhookService(storage, { allowLoopback: true, random: () => 0.5, clock: () => now, ...options });
}

function endpoint(hooks: WebhookService, eventTypes?: string[], path = "/hook") {
  const created = unwrap(hooks.createEndpoint({ url: `${receiver.url}${path}`, ...(eventTypes ? { eventTypes: eventTypes as never } : {}) }, now));
  receiver.secrets = [created.secret];
  return created;
}

describe("webhook delivery to a real receiver", () => {
  it("delivers a subscribed event with Standard Webhooks headers the independent package verifies", async () => {
    const hooks = service();
    const { endpoint: ep } = endpoint(hooks, ["agent.online", "agent.offline"]);
    emit(storage, "agent.online", { agentId: AGENT }, now);
    emit(storage, "agent.approved", { agentId: AGENT }, now); // not subscribed
    emit(storage, "fleet.config", { version: 2 }, now); // not a webhook event
    expect(hooks.nextDueAt(now)).toBe(now);
    const t0 = performance.now();
    await hooks.run(now);
    const latency = performance.now() - t0;
    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    expect(req!.verifyError).toBeNull();
    expect(req!.method).toBe("POST");
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(req!.timestamp).toBe(Math.floor(now / 1000));
    const body = envelopeSchema.parse(JSON.parse(req!.body));
    expect(body).toEqual({ type: "agent.online", version: 1, timestamp: new Date(now).toISOString(), data: { agentId: AGENT } });
    expect(hooks.nextDueAt(now)).toBeNull();
    const log = unwrap(hooks.listAttempts(ep.id, null, 10));
    expect(log.items).toMatchObject([{ attempt: 1, outcome: "succeeded", statusCode: 200, error: null, response: "status 200" }]);
    console.log(`outbox row → receiver answered: ${latency.toFixed(1)} ms`);
  });

  it("an endpoint created later gets only later events; one disabled gets none", async () => {
    const hooks = service();
    emit(storage, "agent.online", { agentId: AGENT }, now - 10);
    const { endpoint: ep } = endpoint(hooks);
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(0);
    unwrap(hooks.updateEndpoint(ep.id, { enabled: false }, now));
    emit(storage, "agent.revoked", { agentId: AGENT }, now);
    expect(hooks.nextDueAt(now)).toBeNull();
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(0);
    unwrap(hooks.updateEndpoint(ep.id, { enabled: true }, now));
    emit(storage, "agent.released", { agentId: AGENT }, now);
    await hooks.run(now);
    expect(receiver.requests.map((r) => JSON.parse(r.body).type)).toEqual(["agent.released"]);
  });

  it("a receiver failing the first 3 attempts gets the event on the 4th: same id, fresh timestamp and signature", async () => {
    const schedule = [0, 5000, 5000, 5000, 5000];
    const hooks = service({ schedule });
    const { endpoint: ep } = endpoint(hooks);
    receiver.script(500, 502, { status: 404 }, 200);
    emit(storage, "agent.quarantined", { agentId: AGENT, reason: "lamport jump" }, now);
    const start = now;
    for (let i = 0; i < 4; i++) {
      await hooks.run(now);
      expect(receiver.requests).toHaveLength(i + 1);
      // Nothing is due before the scheduled delay.
      const due = hooks.nextDueAt(now);
      if (i < 3) {
        expect(due).toBe(now + 5000);
        await hooks.run(now + 4999);
        expect(receiver.requests).toHaveLength(i + 1);
        now = due!;
      }
    }
    const ids = new Set(receiver.requests.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(receiver.requests.map((r) => r.timestamp)).toEqual([0, 5, 10, 15].map((s) => Math.floor(start / 1000) + s));
    expect(new Set(receiver.requests.map((r) => r.signature)).size).toBe(4);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    for (const r of receiver.requests) expect(r.verifyError).toBeNull();
    const message = unwrap(hooks.listMessages(ep.id, null, 10)).items[0]!;
    expect(message).toMatchObject({ status: "succeeded", attempts: 4, lastStatusCode: 200 });
    const log = unwrap(hooks.listAttempts(ep.id, null, 10)).items;
    expect(log.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [4, "succeeded", 200],
      [3, "failed", 404],
      [2, "failed", 502],
      [1, "failed", 500],
    ]);
    // A success clears the endpoint's failure clock.
    expect(unwrap(hooks.getEndpoint(ep.id, now)).failingSince).toBeNull();
  });

  it("fails a message after the last scheduled attempt", async () => {
    const hooks = service({ schedule: [0, 1000, 1000] });
    const { endpoint: ep } = endpoint(hooks);
    receiver.fallback = 500;
    emit(storage, "agent.revoked", { agentId: AGENT }, now);
    for (let i = 0; i < 5; i++) await hooks.run((now += 1000));
    expect(receiver.requests).toHaveLength(3);
    expect(unwrap(hooks.listMessages(ep.id, null, 10)).items[0]).toMatchObject({ status: "failed", attempts: 3, lastError: "HTTP 500" });
    expect(hooks.nextDueAt(now)).toBeNull();
    expect(unwrap(hooks.getEndpoint(ep.id, now))).toMatchObject({ enabled: true, failingSince: expect.any(String) });
  });

  it("410 Gone disables the endpoint and fails the message; later events are not sent to it", async () => {
    const hooks = service();
    const { endpoint: ep } = endpoint(hooks);
    receiver.script(410);
    emit(storage, "agent.online", { agentId: AGENT }, now);
    await hooks.run(now);
    expect(unwrap(hooks.getEndpoint(ep.id, now))).toMatchObject({ enabled: false, disabledReason: "gone" });
    expect(unwrap(hooks.listMessages(ep.id, null, 10)).items[0]).toMatchObject({ status: "failed" });
    emit(storage, "agent.offline", { agentId: AGENT }, now);
    await hooks.run((now += 60_000));
    expect(receiver.requests).toHaveLength(1);
    expect(hooks.sendTest(ep.id, now)).toMatchObject({ ok: false, error: { code: "webhook_endpoint_disabled" } });
  });

  it("a hanging receiver is timed out and the message retried", async () => {
    const hooks = service({ timeoutMs: 300, schedule: [0, 1000, 1000] });
    const { endpoint: ep } = endpoint(hooks);
    receiver.script("hang", 200);
    emit(storage, "agent.offline", { agentId: AGENT, reason: "silent" }, now);
    const t0 = performance.now();
    await hooks.run(now);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(unwrap(hooks.listAttempts(ep.id, null, 10)).items[0]).toMatchObject({ outcome: "failed", statusCode: null, error: "no answer within 300 ms" });
    await hooks.run((now += 1000));
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[0]!.id).toBe(receiver.requests[1]!.id);
    expect(unwrap(hooks.listMessages(ep.id, null, 10)).items[0]).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("honours Retry-After of a 429/503 (seconds or HTTP date) instead of the scheduled delay", async () => {
    const hooks = service({ schedule: [0, 5000, 5000] });
    endpoint(hooks);
    receiver.script({ status: 503, headers: { "retry-after": "120" } }, { status: 429, headers: { "retry-after": new Date(now + 125_000 + 60_000).toUTCString() } }, 200);
    emit(storage, "agent.online", { agentId: AGENT }, now);
    await hooks.run(now);
    const due = hooks.nextDueAt(now)!;
    expect(due - now).toBeGreaterThanOrEqual(120_000);
    expect(due - now).toBeLessThan(121_000);
    await hooks.run(now + 5000); // the schedule's delay: not yet
    expect(receiver.requests).toHaveLength(1);
    now = due;
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(2);
    const due2 = hooks.nextDueAt(now)!;
    // The date was now₀ + 185 s at second precision; this attempt ran at now₀ + 120 s.
    expect(due2 - now).toBeGreaterThan(63_900);
    expect(due2 - now).toBeLessThanOrEqual(65_000);
    now = due2;
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(3);
    for (const r of receiver.requests) expect(r.verifyError).toBeNull();
  });

  it("a 3xx is a failure and its Location is not followed", async () => {
    const hooks = service({ schedule: [0, 1000] });
    const { endpoint: ep } = endpoint(hooks);
    receiver.script({ status: 302, headers: { location: `${receiver.url}/elsewhere` } }, { status: 307, headers: { location: `${receiver.url}/elsewhere` } });
    emit(storage, "agent.online", { agentId: AGENT }, now);
    await hooks.run(now);
    await hooks.run((now += 1000));
    expect(receiver.requests.map((r) => r.path)).toEqual(["/hook", "/hook"]);
    expect(unwrap(hooks.listMessages(ep.id, null, 10)).items[0]).toMatchObject({ status: "failed", lastStatusCode: 307, lastError: "HTTP 307 (redirects are not followed)" });
  });

  it("an endpoint failing for 5 days without a success is disabled", async () => {
    const day = 86_400_000;
    const hooks = service({ schedule: [0, day, day, day, day, day, day] });
    const { endpoint: ep } = endpoint(hooks);
    receiver.fallback = 500;
    receiver.secrets = []; // the injected clock runs days ahead of the receiver's
    emit(storage, "agent.online", { agentId: AGENT }, now);
    for (let i = 0; i < 5; i++) {
      await hooks.run(now);
      expect(unwrap(hooks.getEndpoint(ep.id, now)).enabled).toBe(true);
      now += day;
    }
    await hooks.run(now);
    expect(unwrap(hooks.getEndpoint(ep.id, now))).toMatchObject({ enabled: false, disabledReason: "failing" });
    expect(receiver.requests).toHaveLength(6);
  });

  it("at most maxInFlight attempts at once", async () => {
    const hooks = service({ maxInFlight: 3 });
    endpoint(hooks);
    receiver.fallback = { status: 200, delayMs: 150 };
    for (let i = 0; i < 10; i++) emit(storage, "agent.online", { agentId: AGENT, n: i }, now);
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(10);
    expect(receiver.maxConcurrent).toBe(3);
    expect(new Set(receiver.requests.map((r) => JSON.parse(r.body).data.n)).size).toBe(10);
  });

  it("an attempt cut off mid-flight (eviction) is retried after its lease with the same id, and its late answer is not applied", async () => {
    const first = service({ timeoutMs: 60_000 });
    const { endpoint: ep } = endpoint(first);
    receiver.script("hang", 200);
    emit(storage, "agent.online", { agentId: AGENT }, now);
    const abandoned = first.run(now).catch(() => {});
    await receiver.waitFor(1);
    // A new instance over the same storage: what the object is after an eviction.
    const second = service({ timeoutMs: 60_000 });
    await second.run(now + 1000);
    expect(receiver.requests).toHaveLength(1); // the lease still holds
    const leaseEnd = second.nextDueAt(now + 1000)!;
    expect(leaseEnd).toBe(now + 60_000 + 10_000);
    now = leaseEnd;
    await second.run(now);
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.id).toBe(receiver.requests[0]!.id);
    expect(receiver.requests[1]!.verifyError).toBeNull();
    const log = unwrap(second.listAttempts(ep.id, null, 10)).items;
    expect(log.map((a) => a.outcome)).toEqual(["succeeded", "interrupted"]);
    // The first instance's attempt now ends (the receiver drops it): logged, but the message stays succeeded.
    await receiver.close();
    await abandoned;
    expect(unwrap(second.listAttempts(ep.id, null, 10)).items.map((a) => a.outcome)).toEqual(["failed", "succeeded", "interrupted"]);
    expect(unwrap(second.listMessages(ep.id, null, 10)).items[0]).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("an endpoint deleted while an attempt is in flight leaves nothing behind", async () => {
    const hooks = service();
    const { endpoint: ep } = endpoint(hooks);
    receiver.script({ status: 200, delayMs: 200 });
    emit(storage, "agent.online", { agentId: AGENT }, now);
    const running = hooks.run(now);
    await receiver.waitFor(1);
    expect(unwrap(hooks.deleteEndpoint(ep.id))).toEqual({ deleted: ep.id });
    await running;
    for (const table of ["webhook_messages", "webhook_attempts", "webhook_secrets", "webhook_endpoints"]) {
      expect(storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n, table).toBe(0);
    }
  });

  it("the attempt log keeps the newest 1000 attempts per endpoint", () => {
    const hooks = service();
    const { endpoint: ep } = endpoint(hooks);
    storage.transaction(() => {
      for (let i = 1; i <= 1005; i++) {
        appendAttempt(storage.sql, { endpointId: ep.id, messageId: "msg_x", attempt: i, at: now, outcome: "failed", statusCode: 500, latencyMs: 1, error: "HTTP 500", response: null });
      }
    });
    expect(countAttempts(storage.sql, ep.id)).toBe(1000);
    const page1 = unwrap(hooks.listAttempts(ep.id, null, 100));
    expect(page1.items[0]!.attempt).toBe(1005);
    const page2 = unwrap(hooks.listAttempts(ep.id, page1.next, 100));
    expect(page2.items[0]!.attempt).toBe(905);
    let oldest = page2;
    while (oldest.next !== null) oldest = unwrap(hooks.listAttempts(ep.id, oldest.next, 100));
    expect(oldest.items.at(-1)?.attempt ?? 6).toBe(6);
  });
});

describe("secrets, replay and test events", () => {
  it("after a rotation both secrets sign for 24 h, each verifying alone; then only the new one", async () => {
    const hooks = service();
    const { endpoint: ep, secret: oldSecret } = endpoint(hooks);
    const rotated = unwrap(hooks.rotateSecret(ep.id, now));
    expect(rotated.secret).not.toBe(oldSecret);
    expect(parseSecret(rotated.secret)).toHaveLength(32);
    expect(Date.parse(rotated.previousValidUntil) - now).toBe(86_400_000);
    expect(rotated.endpoint.secrets).toHaveLength(2);
    receiver.secrets = [oldSecret, rotated.secret];
    unwrap(hooks.sendTest(ep.id, now));
    await hooks.run(now);
    expect(receiver.requests[0]!.signature.split(" ")).toHaveLength(2);
    expect(receiver.requests[0]!.verifyError).toBeNull();
    now += 86_400_000;
    unwrap(hooks.sendTest(ep.id, now));
    receiver.secrets = []; // the injected clock is a day ahead of the package's tolerance window
    await hooks.run(now);
    const late = receiver.requests[1]!;
    expect(late.signature).toBe(new Webhook(rotated.secret).sign(late.id, new Date(late.timestamp * 1000), late.body));
    expect(JSON.parse(receiver.requests[1]!.body)).toMatchObject({ type: "webhook.test", data: { endpointId: ep.id } });
    // The listing never shows a secret.
    expect(JSON.stringify(hooks.listEndpoints(now))).not.toContain("whsec_");
  });

  it("replays one message, or every finished one since a time, with the same id and body", async () => {
    const hooks = service({ schedule: [0] });
    const { endpoint: ep } = endpoint(hooks);
    receiver.script(500);
    emit(storage, "agent.online", { agentId: AGENT }, now);
    emit(storage, "agent.offline", { agentId: AGENT }, now + 1);
    await hooks.run(now);
    const messages = unwrap(hooks.listMessages(ep.id, null, 10)).items;
    expect(messages.map((m) => m.status).sort()).toEqual(["failed", "succeeded"]);
    const failed = messages.find((m) => m.status === "failed")!;
    expect(unwrap(hooks.replayMessage(ep.id, failed.id, now))).toMatchObject({ status: "pending" });
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.requests[2]!.id).toBe(failed.id);
    expect(receiver.requests[2]!.body).toBe(failed.body);
    expect(unwrap(hooks.replaySince(ep.id, now - 1000, now))).toEqual({ replayed: 2, limit: 1000 });
    await hooks.run(now);
    expect(receiver.requests).toHaveLength(5);
    expect(unwrap(hooks.replaySince(ep.id, now + 10_000, now)).replayed).toBe(0);
    expect(hooks.replayMessage(ep.id, "msg_" + "0".repeat(32), now)).toMatchObject({ ok: false, error: { code: "webhook_message_not_found" } });
  });

  it("refuses URLs the policy refuses, unknown endpoints, and more than 20 endpoints", () => {
    const prod = new WebhookService(storage, { allowLoopback: false });
    expect(prod.createEndpoint({ url: `${receiver.url}/hook` }, now)).toMatchObject({ ok: false, error: { code: "webhook_url_refused", details: { reason: "loopback" } } });
    expect(prod.createEndpoint({ url: "https://169.254.169.254/" }, now)).toMatchObject({ ok: false, error: { code: "webhook_url_refused" } });
    expect(prod.getEndpoint("ep_nope", now)).toMatchObject({ ok: false, error: { code: "webhook_endpoint_not_found" } });
    for (let i = 0; i < 20; i++) unwrap(prod.createEndpoint({ url: `https://hooks.example.com/${i}` }, now));
    expect(prod.createEndpoint({ url: "https://hooks.example.com/21" }, now)).toMatchObject({ ok: false, error: { code: "webhook_endpoint_limit" } });
    const [first] = prod.listEndpoints(now);
    expect(unwrap(prod.deleteEndpoint(first!.id))).toEqual({ deleted: first!.id });
    expect(prod.listEndpoints(now)).toHaveLength(19);
  });
});
