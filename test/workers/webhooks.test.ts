/**
 * Webhook delivery from the real Fleet object in workerd to real HTTP receivers on loopback (the
 * receiver hub of the workers project's globalSetup, a Node server). The project runs the fleet in
 * local-development mode with a short retry schedule (1.2 s steps) and a 500 ms timeout
 * (vitest.workers.config.ts), so retries happen within a test. The hub verifies every signature
 * with the independent `standardwebhooks` package.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { enrollAgent, open } from "./fleet-agent.js";
import { api, createEndpoint, newBin, type Arrival } from "./webhook-hub.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectVerified(arrivals: Arrival[]): void {
  for (const a of arrivals) expect(a.verifyError, `${a.id} at ${a.receivedAt}`).toBeNull();
}

describe("webhooks from the Fleet object", () => {
  it("delivers an event within a second of the change, signed, with the documented envelope", async () => {
    const fleet = "wh-latency";
    const bin = newBin("latency");
    await createEndpoint(fleet, bin, { eventTypes: ["agent.enrolled"] });
    const before = Date.now();
    const agent = await enrollAgent(fleet, "latency");
    const [arrival] = await bin.waitFor(1);
    const latency = arrival!.receivedAt - before;
    console.log(`webhooks: enrolment → receiver ${latency} ms`);
    expect(latency).toBeLessThan(1000);
    expectVerified([arrival!]);
    expect(JSON.parse(arrival!.body)).toMatchObject({ type: "agent.enrolled", version: 1, data: { agentId: agent.agentId, status: "active", name: "latency" } });
    expect(arrival!.headers["content-type"]).toBe("application/json");
  });

  it("a receiver failing the first 3 attempts gets the event on the 4th: same webhook-id, fresh timestamp and signature", async () => {
    const fleet = "wh-retry";
    const bin = newBin("retry");
    const { id } = await createEndpoint(fleet, bin);
    await bin.script({ answers: [500, 503, 404] });
    await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    const arrivals = await bin.waitFor(4, 15_000);
    expect(new Set(arrivals.map((a) => a.id)).size).toBe(1);
    expect(new Set(arrivals.map((a) => a.timestamp)).size).toBe(4);
    expect(new Set(arrivals.map((a) => a.signature)).size).toBe(4);
    expect(new Set(arrivals.map((a) => a.body)).size).toBe(1);
    expectVerified(arrivals);
    const log = await api<{ items: { attempt: number; outcome: string; statusCode: number }[] }>(fleet, "GET", `/v1/webhooks/endpoints/${id}/deliveries`);
    expect(log.body.items.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [4, "succeeded", 200],
      [3, "failed", 404],
      [2, "failed", 503],
      [1, "failed", 500],
    ]);
  });

  it("410 Gone disables the endpoint", async () => {
    const fleet = "wh-gone";
    const bin = newBin("gone");
    const { id } = await createEndpoint(fleet, bin);
    await bin.script({ answers: [410] });
    await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    await bin.waitFor(1);
    let view = await api<{ enabled: boolean; disabledReason: string | null }>(fleet, "GET", `/v1/webhooks/endpoints/${id}`);
    for (let i = 0; i < 50 && view.body.enabled; i++) {
      await sleep(20);
      view = await api(fleet, "GET", `/v1/webhooks/endpoints/${id}`);
    }
    expect(view.body).toMatchObject({ enabled: false, disabledReason: "gone" });
    expect(await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`)).toMatchObject({ status: 409, body: { error: { code: "webhook_endpoint_disabled" } } });
    await sleep(1500);
    expect(await bin.requests()).toHaveLength(1);
  });

  it("a hanging receiver is timed out and the message retried", async () => {
    const fleet = "wh-hang";
    const bin = newBin("hang");
    const { id } = await createEndpoint(fleet, bin);
    await bin.script({ answers: ["hang"] });
    await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    const arrivals = await bin.waitFor(2, 10_000);
    expect(arrivals[1]!.id).toBe(arrivals[0]!.id);
    expect(arrivals[1]!.receivedAt - arrivals[0]!.receivedAt).toBeGreaterThanOrEqual(500);
    const log = await api<{ items: { outcome: string; error: string | null }[] }>(fleet, "GET", `/v1/webhooks/endpoints/${id}/deliveries`);
    expect(log.body.items.at(-1)).toMatchObject({ outcome: "failed", error: "no answer within 500 ms" });
  });

  it("honours Retry-After", async () => {
    const fleet = "wh-retry-after";
    const bin = newBin("retry-after");
    const { id } = await createEndpoint(fleet, bin);
    await bin.script({ answers: [{ status: 503, headers: { "retry-after": "3" } }] });
    await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    const arrivals = await bin.waitFor(2, 10_000);
    // The schedule alone would have retried after 1.2 s.
    expect(arrivals[1]!.receivedAt - arrivals[0]!.receivedAt).toBeGreaterThanOrEqual(2900);
    expectVerified(arrivals);
  });

  it("evicting the object with deliveries pending loses none and repeats none that got a 2xx", async () => {
    const fleet = "wh-evict";
    const bin = newBin("evict");
    const { id } = await createEndpoint(fleet, bin);
    // Three events; the receiver fails the first attempt of each, so all three are pending a retry.
    await bin.script({ answers: [500, 500, 500] });
    for (let i = 0; i < 3; i++) await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    await bin.waitFor(3);
    await abortAllDurableObjects();
    const arrivals = await bin.waitFor(6, 15_000);
    await abortAllDurableObjects();
    await sleep(2500);
    const all = await bin.requests();
    expect(all).toHaveLength(6);
    const ids = all.map((a) => a.id);
    expect(new Set(ids).size).toBe(3);
    for (const msg of new Set(ids)) expect(ids.filter((x) => x === msg)).toHaveLength(2);
    expectVerified(arrivals);
    const messages = await api<{ items: { status: string }[] }>(fleet, "GET", `/v1/webhooks/endpoints/${id}/messages`);
    expect(messages.body.items.map((m) => m.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  });

  it("rotation signs with both secrets; replay resends the same message", async () => {
    const fleet = "wh-rotate";
    const bin = newBin("rotate");
    const { id, secret } = await createEndpoint(fleet, bin);
    const rotated = await api<{ secret: string; previousValidUntil: string }>(fleet, "POST", `/v1/webhooks/endpoints/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    await bin.script({ secrets: [secret, rotated.body.secret] });
    const sent = await api<{ id: string }>(fleet, "POST", `/v1/webhooks/endpoints/${id}/test`);
    expect(sent.status).toBe(202);
    const [first] = await bin.waitFor(1);
    expect(first!.signature.split(" ")).toHaveLength(2);
    expectVerified([first!]);
    let replay = await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/messages/${sent.body.id}/replay`);
    for (let i = 0; i < 50 && replay.status === 202 && (replay.body as { status: string }).status !== "pending"; i++) {
      await sleep(20);
      replay = await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/messages/${sent.body.id}/replay`);
    }
    const again = await bin.waitFor(2);
    expect(again[1]!.id).toBe(first!.id);
    expect(again[1]!.body).toBe(first!.body);
  });

  it("mesh.locked when r ≥ 0.8 has held for the dwell (10 s), mesh.unlocked when r = 0 has", async () => {
    const fleet = "wh-mesh";
    const bin = newBin("mesh");
    await createEndpoint(fleet, bin, { eventTypes: ["mesh.locked", "mesh.unlocked"] });
    const agents = [await enrollAgent(fleet, "m1"), await enrollAgent(fleet, "m2")];
    const sessions = await Promise.all(agents.map((a) => open(a, 1)));
    // Both in phase (θ = 0.5, same ω): r = 1 for as long as they report.
    let lamport = 2;
    const start = Date.now();
    while (Date.now() - start < 11_000 && (await bin.requests()).length === 0) {
      lamport += 10;
      for (const s of sessions) s.send({ v: 1, type: "summary", lamport, t: Date.now(), theta: 0.5, omega: 1, coherence: 0.9, tokenHz: 20 });
      await sleep(500);
    }
    const [locked] = await bin.waitFor(1, 2000);
    expect(JSON.parse(locked!.body)).toMatchObject({ type: "mesh.locked", data: { r: expect.closeTo(1, 6), threshold: 0.8, dwellMs: 10_000, agents: 2 } });
    const lockedAfter = locked!.receivedAt - start;
    expect(lockedAfter).toBeGreaterThanOrEqual(10_000);
    // Everyone leaves: no field, r = 0; unlocked a dwell later.
    for (const s of sessions) s.ws.close(1000, "done");
    const [, unlocked] = await bin.waitFor(2, 15_000);
    expect(JSON.parse(unlocked!.body)).toMatchObject({ type: "mesh.unlocked", data: { r: 0, threshold: 0.6 } });
    expect(unlocked!.receivedAt - locked!.receivedAt).toBeGreaterThanOrEqual(10_000);
    expectVerified([locked!, unlocked!]);
  }, 40_000);

  it("validates the admin API's input", async () => {
    const fleet = "wh-validate";
    expect(await api(fleet, "POST", "/v1/webhooks/endpoints", { url: "https://10.0.0.1/x" })).toMatchObject({ status: 400, body: { error: { code: "webhook_url_refused" } } });
    expect(await api(fleet, "POST", "/v1/webhooks/endpoints", { url: "https://hooks.example.com/x", eventTypes: ["nope"] })).toMatchObject({ status: 400, body: { error: { code: "invalid_body" } } });
    expect(await api(fleet, "POST", "/v1/webhooks/endpoints", { url: "https://hooks.example.com/x", extra: 1 })).toMatchObject({ status: 400, body: { error: { code: "invalid_body" } } });
    expect(await api(fleet, "GET", "/v1/webhooks/endpoints/ep_nope")).toMatchObject({ status: 404, body: { error: { code: "webhook_endpoint_not_found" } } });
    expect(await api(fleet, "GET", `/v1/webhooks/endpoints/ep_${"0".repeat(32)}`)).toMatchObject({ status: 404, body: { error: { code: "webhook_endpoint_not_found" } } });
    const created = await api<{ endpoint: { id: string } }>(fleet, "POST", "/v1/webhooks/endpoints", { url: "https://hooks.example.com/x", enabled: false });
    expect(created.status).toBe(201);
    const id = created.body.endpoint.id;
    expect(await api(fleet, "GET", `/v1/webhooks/endpoints/${id}/deliveries?limit=101`)).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    expect(await api(fleet, "POST", `/v1/webhooks/endpoints/${id}/replay`, { since: "yesterday" })).toMatchObject({ status: 400, body: { error: { code: "invalid_body" } } });
    expect(await api(fleet, "PATCH", `/v1/webhooks/endpoints/${id}`, {})).toMatchObject({ status: 400, body: { error: { code: "invalid_body" } } });
    expect(await api(fleet, "PATCH", `/v1/webhooks/endpoints/${id}`, { description: "x" })).toMatchObject({ status: 200, body: { description: "x" } });
    expect(await api(fleet, "DELETE", `/v1/webhooks/endpoints/${id}`)).toMatchObject({ status: 200, body: { deleted: id } });
    const list = await api<{ endpoints: unknown[] }>(fleet, "GET", "/v1/webhooks/endpoints");
    expect(list.body.endpoints).toEqual([]);
  });
});
