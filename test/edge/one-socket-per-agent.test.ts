/**
 * One live socket per agent, whatever the interleaving: many simultaneous upgrades of one agent,
 * each with its own valid JWT, against the real Worker (wrangler dev) with real `ws` clients. Exactly
 * one socket survives and works; every other one is closed with 4000 "replaced by a newer connection".
 *
 * "Closed" means the `close` event of a default `ws` client: the close frame AND the end of the
 * connection. The limit is below ws's 30 s close timeout, so a socket that only got a close frame
 * while the edge kept its connection open (what a close issued from another socket's upgrade does in
 * workerd) fails the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signConnectToken } from "../../shared/protocol/index.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { call, enrollNew, sleep, type Enrollment } from "./fleet-client.js";
import { SocketClient } from "./socket-client.js";

const CONNECTS = 50;
/** Generous for two shared cores, yet below ws's 30 s close timeout (see above). */
const SETTLE_LIMIT_MS = 20_000;
/** Clients speak like agents do (they ping), only more often. */
const PING_EVERY_MS = 250;

let edge: RunningEdge;

beforeAll(async () => {
  edge = await startEdge();
});

afterAll(async () => {
  await edge?.dispose();
});

async function jwts(enrolled: Enrollment, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, () => signConnectToken({ secretKey: enrolled.agent.secretKey, agentId: enrolled.agentId, audience: enrolled.audience })),
  );
}

/** Polls until `done` holds or the limit passes; returns whether it held. */
async function until(done: () => boolean, limitMs = SETTLE_LIMIT_MS): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function hello(enrolled: Enrollment, lamport: number) {
  return { v: 1, type: "hello", agentId: enrolled.agentId, lamport, software: "race/1" };
}

/** Pings on every open client until stopped, as an agent's keep-alive does. */
function keepPinging(clients: SocketClient[]): () => void {
  let n = 0;
  const timer = setInterval(() => {
    for (const client of clients) if (client.closed === undefined) client.send({ v: 1, type: "ping", nonce: `k${n++}` });
  }, PING_EVERY_MS);
  return () => clearInterval(timer);
}

/** Exactly one open socket with a welcome; the rest closed with 4000. Returns the survivor. */
async function expectOneSurvivor(clients: SocketClient[]): Promise<SocketClient> {
  const settled = await until(() => clients.filter((c) => c.closed === undefined).length <= 1);
  const open = clients.filter((c) => c.closed === undefined);
  const closes = clients.filter((c) => c.closed !== undefined).map((c) => `${c.closed!.code} ${c.closed!.reason}`);
  expect(settled, `${open.length} sockets still open after ${SETTLE_LIMIT_MS} ms; ${open.filter((c) => c.messages.some((m) => m.type === "welcome")).length} of them welcomed`).toBe(true);
  expect(open).toHaveLength(1);
  expect(closes).toHaveLength(clients.length - 1);
  for (const close of closes) expect(close).toBe("4000 replaced by a newer connection");
  const survivor = open[0]!;
  await survivor.next("welcome");
  return survivor;
}

/** The survivor is a working session: pong, a summary into the field, the agent shown connected. */
async function expectWorking(survivor: SocketClient, enrolled: Enrollment, lamport: number): Promise<void> {
  survivor.send({ v: 1, type: "ping", nonce: "alive" });
  await survivor.next("pong", (p) => p.nonce === "alive");
  const mark = survivor.messages.length;
  survivor.send({ v: 1, type: "summary", lamport, t: Date.now(), theta: 0.25, omega: 0, coherence: 0.5, tokenHz: 20 });
  await survivor.next("field", (f) => f.n === 1, { from: mark });
  expect(survivor.messages.filter((m) => m.type === "error")).toEqual([]);
  const view = await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=${fleetOf(enrolled)}`);
  expect(view.body).toMatchObject({ connected: true, online: true, inField: true });
  expect(survivor.closed).toBeUndefined();
}

function fleetOf(enrolled: Enrollment): string {
  return new URL(enrolled.connectUrl).searchParams.get("fleet") ?? "default";
}

describe("one live socket per agent", () => {
  it(`${CONNECTS} simultaneous upgrades, hello once all are open: one survivor, ${CONNECTS - 1} closed with 4000`, async () => {
    const enrolled = await enrollNew(edge, "racer", "race-open");
    const tokens = await jwts(enrolled, CONNECTS);
    const clients = await Promise.all(tokens.map((jwt) => SocketClient.connect(enrolled.connectUrl, jwt)));
    for (const client of clients) {
      if (client.closed === undefined) client.send(hello(enrolled, 1));
    }
    const stop = keepPinging(clients);
    const survivor = await expectOneSurvivor(clients).finally(stop);
    // Only the survivor was welcomed: a replaced socket is never served.
    expect(clients.filter((c) => c.messages.some((m) => m.type === "welcome"))).toEqual([survivor]);
    await expectWorking(survivor, enrolled, 2);
    survivor.close();
  });

  it(`${CONNECTS} simultaneous upgrades, each saying hello the moment it opens: one survivor`, async () => {
    const enrolled = await enrollNew(edge, "eager", "race-eager");
    const tokens = await jwts(enrolled, CONNECTS);
    const clients = await Promise.all(
      tokens.map(async (jwt) => {
        const client = await SocketClient.connect(enrolled.connectUrl, jwt);
        client.send(hello(enrolled, 1));
        return client;
      }),
    );
    const stop = keepPinging(clients);
    const survivor = await expectOneSurvivor(clients).finally(stop);
    await expectWorking(survivor, enrolled, 2);
    survivor.close();
  });

  it("replaced sockets that stay silent get their 4000 too", async () => {
    const enrolled = await enrollNew(edge, "quiet", "race-quiet");
    const tokens = await jwts(enrolled, 10);
    // Nobody speaks, so only the edge's grace timer can close them; from there workerd sends the close
    // frame but keeps the connection (see connection.ts), so these clients stop waiting after 1 s.
    const clients = await Promise.all(tokens.map((jwt) => SocketClient.connect(enrolled.connectUrl, jwt, { closeTimeoutMs: 1000 })));
    const settled = await until(() => clients.filter((c) => c.closed === undefined).length <= 1);
    expect(settled, `${clients.filter((c) => c.closed === undefined).length} silent sockets still open`).toBe(true);
    const open = clients.filter((c) => c.closed === undefined);
    expect(open).toHaveLength(1);
    for (const c of clients) if (c !== open[0]) expect(c.closed).toEqual({ code: 4000, reason: "replaced by a newer connection" });
    open[0]!.send(hello(enrolled, 1));
    await open[0]!.next("welcome");
    await expectWorking(open[0]!, enrolled, 2);
    open[0]!.close();
  });

  it("a replaced socket is not served: its next message closes it, with no answer", async () => {
    const enrolled = await enrollNew(edge, "twice", "race-twice");
    const [first, second] = await jwts(enrolled, 2);
    const old = await SocketClient.connect(enrolled.connectUrl, first!);
    old.send(hello(enrolled, 1));
    await old.next("welcome");
    const replacement = await SocketClient.connect(enrolled.connectUrl, second!);
    const mark = old.messages.length;
    old.send({ v: 1, type: "ping", nonce: "still-there" });
    const closed = await old.waitClosed(SETTLE_LIMIT_MS);
    expect(closed).toEqual({ code: 4000, reason: "replaced by a newer connection" });
    // (A field broadcast sent just before the replacement may still arrive; nothing answers the ping.)
    expect(old.messages.slice(mark).filter((m) => m.type === "pong" || m.type === "error")).toEqual([]);
    replacement.send(hello(enrolled, 2));
    await replacement.next("welcome");
    await expectWorking(replacement, enrolled, 3);
    replacement.close();
  });
});
