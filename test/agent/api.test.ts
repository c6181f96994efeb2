import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedRequestString } from "../../agent/api/resetSignature.js";
import { startTestAgent, type TestAgent } from "./support/testAgent.js";

function keypair(): { privateKey: KeyObject; publicB64: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicB64: publicKey.export({ format: "jwk" }).x! };
}

const operator = keypair();
const stranger = keypair();

let agent: TestAgent;
beforeAll(async () => {
  agent = await startTestAgent({ api: { resetKeys: [operator.publicB64], headersTimeoutMs: 800, requestTimeoutMs: 2000 }, queue: { capacity: 64 } });
});
afterAll(async () => {
  await agent.stop();
});

async function call(method: string, path: string, init: { body?: string; headers?: Record<string, string>; auth?: string | false } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth !== false) headers.authorization = `Bearer ${init.auth ?? agent.token}`;
  const res = await fetch(agent.url + path, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, any> };
}

const postJson = (path: string, body: unknown, auth?: string | false) =>
  call("POST", path, { body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(auth !== undefined ? { auth } : {}) });

function signedHeaders(key: KeyObject, publicB64: string, opts: { path?: string; agentId?: string; timestamp?: number; nonce?: string } = {}) {
  const timestamp = String(opts.timestamp ?? Date.now());
  const nonce = opts.nonce ?? `n${Math.random().toString(36).slice(2)}${Date.now()}`.padEnd(20, "x");
  const message = signedRequestString("POST", opts.path ?? "/reset", opts.agentId ?? agent.handle.agentId, timestamp, nonce);
  return {
    "x-bo-key": publicB64,
    "x-bo-timestamp": timestamp,
    "x-bo-nonce": nonce,
    "x-bo-signature": sign(null, Buffer.from(message), key).toString("base64url"),
  };
}

describe("local API: reads", () => {
  it("GET / describes the agent", async () => {
    const r = await call("GET", "/", { auth: false });
    expect(r.status).toBe(200);
    expect(r.json.agentId).toBe(agent.handle.agentId);
    expect(Object.keys(r.json.endpoints)).toContain("POST /reset");
  });

  it("GET /health is ready with component status", async () => {
    const r = await call("GET", "/health", { auth: false });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "ready", link: "disabled", clock: { hz: 50, running: true } });
  });

  it("GET /coherence shows master, emissary, sync and the mesh", async () => {
    const r = await call("GET", "/coherence", { auth: false });
    expect(r.status).toBe(200);
    expect(r.json).toHaveProperty("master.coherence");
    expect(r.json).toHaveProperty("emissary.coherence");
    expect(r.json).toHaveProperty("sync.aligned");
    expect(typeof r.json.mesh.theta).toBe("number");
    expect(r.json.mesh.field).toBeNull();
  });

  it("GET /metrics speaks the Prometheus text format", async () => {
    while (agent.handle.clock.stats().ticks < 2) await new Promise((r) => setTimeout(r, 20));
    const r = await call("GET", "/metrics", { auth: false });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain("# TYPE becomingone_ticks_total counter");
    expect(r.text).toMatch(/^becomingone_queue_depth \d+$/m);
    expect(r.text).toMatch(/^becomingone_link_state\{state="disabled"\} 1$/m);
    expect(r.text).toMatch(/^becomingone_tick_lateness_ms\{quantile="0\.99"\} [\d.]+$/m);
    // Every sample line is name{labels}? value.
    for (const line of r.text.trim().split("\n")) {
      if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_:][a-z0-9_:]*(\{[^}]*\})? (-?[\d.e+-]+|NaN|[+-]Inf)$/);
    }
  });

  it("unknown routes are 404 and wrong methods 405, with JSON error bodies", async () => {
    const a = await call("GET", "/nope", { auth: false });
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe("not_found");
    const b = await call("GET", "/input", { auth: false });
    expect(b.status).toBe(405);
    expect(b.json.error.code).toBe("method_not_allowed");
  });
});

describe("local API: POST /input", () => {
  it("processes text, tokens and phase inputs through the clock", async () => {
    const text = await postJson("/input", { type: "text", content: "the quick brown fox" });
    expect(text.status).toBe(200);
    expect(text.json).toMatchObject({ status: "processed", tokens: 4 });
    expect(text.json.lastTick - text.json.firstTick).toBeGreaterThanOrEqual(3); // one token per tick
    const tokens = await postJson("/input", { type: "tokens", tokens: ["a", "b"] });
    expect(tokens.json).toMatchObject({ status: "processed", tokens: 2 });
    const phase = await postJson("/input", { type: "phase", phases: [0.1, 0.2, 3] });
    expect(phase.json).toMatchObject({ status: "processed", tokens: 1 });
    expect(typeof phase.json.coherence).toBe("number");
  });

  it("needs the bearer token: 401 without, 403 wrong", async () => {
    const none = await postJson("/input", { type: "text", content: "x" }, false);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("unauthorized");
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await postJson("/input", { type: "text", content: "x" }, "not-the-token");
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe("forbidden");
  });

  it("takes JSON only (415), valid JSON (400 bad_json) of the right shape (400 bad_input)", async () => {
    const plain = await call("POST", "/input", { body: "hello", headers: { "content-type": "text/plain" } });
    expect(plain.status).toBe(415);
    expect(plain.json.error.code).toBe("unsupported_media_type");
    const form = await call("POST", "/input", { body: "a=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);
    const bad = await call("POST", "/input", { body: "{nope", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("bad_json");
    for (const body of [[1], { type: "wat" }, { type: "text" }, { type: "text", content: "" }, { type: "phase", phases: ["x"] }, { type: "text", content: "x", extra: 1 }]) {
      const r = await postJson("/input", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe("bad_input");
    }
  });

  it("enforces size limits: body (413), text, tokens per request, token length", async () => {
    const huge = JSON.stringify({ type: "text", content: "a ".repeat(40_000) });
    const big = await call("POST", "/input", { body: huge, headers: { "content-type": "application/json" } });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("payload_too_large");
    // Same without a Content-Length (chunked): the limit still applies while streaming.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const chunked = await fetch(agent.url + "/input", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${agent.token}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const longText = await postJson("/input", { type: "text", content: "b".repeat(9000) });
    expect(longText.status).toBe(400);
    const manyTokens = await postJson("/input", { type: "tokens", tokens: Array.from({ length: 257 }, () => "t") });
    expect(manyTokens.status).toBe(400);
    const longToken = await postJson("/input", { type: "tokens", tokens: ["c".repeat(257)] });
    expect(longToken.status).toBe(400);
    const manyWords = await postJson("/input", { type: "text", content: "w ".repeat(300) });
    expect(manyWords.status).toBe(400);
    expect(manyWords.json.error.details).toMatchObject({ tokens: 300, limit: 256 });
  });

  it("answers 429 with Retry-After when the queue cannot take the batch", async () => {
    const capacity = agent.handle.queue.capacity;
    const fill = postJson("/input", { type: "tokens", tokens: Array.from({ length: capacity - 2 }, (_, i) => `f${i}`) });
    await new Promise((r) => setTimeout(r, 20));
    const over = await postJson("/input", { type: "tokens", tokens: ["x", "y", "z", "w", "v"] });
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe("queue_full");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await fill).json.status).toBe("processed");
  }, 15_000);
});

describe("local API: POST /reset", () => {
  it("accepts the bearer token", async () => {
    const r = await call("POST", "/reset");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "reset", authorizedBy: "token" });
  });

  it("refuses no credentials (401) and a wrong token (403)", async () => {
    expect((await call("POST", "/reset", { auth: false })).status).toBe(401);
    const wrong = await call("POST", "/reset", { auth: "nope" });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe("forbidden");
  });

  it("accepts a fresh Ed25519 signature by an allow-listed key, once", async () => {
    const headers = signedHeaders(operator.privateKey, operator.publicB64);
    const ok = await call("POST", "/reset", { auth: false, headers });
    expect(ok.status).toBe(200);
    expect(ok.json.authorizedBy).toBe(`key:${operator.publicB64}`);
    const replay = await call("POST", "/reset", { auth: false, headers });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe("signature_replayed");
  });

  it("refuses bad, expired, foreign, misdirected and incomplete signatures", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [signedHeaders(stranger.privateKey, stranger.publicB64), 403, "key_not_allowed"],
      // Signed by a stranger but claiming the operator's key.
      [signedHeaders(stranger.privateKey, operator.publicB64), 403, "signature_invalid"],
      [signedHeaders(operator.privateKey, operator.publicB64, { timestamp: Date.now() - 5 * 60_000 }), 401, "signature_expired"],
      [signedHeaders(operator.privateKey, operator.publicB64, { timestamp: Date.now() + 5 * 60_000 }), 401, "signature_expired"],
      [signedHeaders(operator.privateKey, operator.publicB64, { path: "/input" }), 403, "signature_invalid"],
      [signedHeaders(operator.privateKey, operator.publicB64, { agentId: "ag_" + "1".repeat(32) }), 403, "signature_invalid"],
      [signedHeaders(operator.privateKey, operator.publicB64, { nonce: "short" }), 401, "signature_invalid"],
      [{ ...signedHeaders(operator.privateKey, operator.publicB64), "x-bo-signature": "AAAA" }, 403, "signature_invalid"],
      [{ "x-bo-key": operator.publicB64 }, 401, "unauthorized"],
    ];
    for (const [headers, status, code] of cases) {
      const r = await call("POST", "/reset", { auth: false, headers });
      expect([r.status, r.json.error.code], code).toEqual([status, code]);
    }
  });

  it("never interleaves with an input batch: the reset waits for the batch in flight", async () => {
    const tokens = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const input = postJson("/input", { type: "tokens", tokens });
    // Let the first tokens start, then ask for a reset while the batch is mid-way.
    await new Promise((r) => setTimeout(r, 150));
    const reset = call("POST", "/reset");
    const after = postJson("/input", { type: "tokens", tokens: ["after"] });
    const [i, r, a] = await Promise.all([input, reset, after]);
    expect(i.json.status).toBe("processed");
    expect(r.json.status).toBe("reset");
    expect(i.json.lastTick - i.json.firstTick).toBeGreaterThanOrEqual(29);
    // The whole batch ran before the reset, in one epoch; the next input ran after it.
    expect(r.json.tick).toBeGreaterThan(i.json.lastTick);
    expect(i.json.epoch).toBe(r.json.epoch - 1);
    expect(a.json.epoch).toBe(r.json.epoch);
    expect(a.json.firstTick).toBeGreaterThanOrEqual(r.json.tick);
  }, 15_000);
});

describe("local API: hardening", () => {
  it("cuts off a client that sends its headers slowly (slowloris)", async () => {
    const addr = agent.handle.api!.address;
    const started = Date.now();
    const closed = await new Promise<{ ms: number; data: string }>((resolve, reject) => {
      const socket = connect(addr.port, "127.0.0.1");
      let data = "";
      let timer: NodeJS.Timeout | undefined;
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => (data += d));
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - started, data });
      });
      socket.on("connect", () => {
        socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        // One header byte every 100 ms: never finishing the header block.
        let i = 0;
        timer = setInterval(() => socket.write(i++ % 2 ? "a" : "X-Slow: "), 100);
      });
      setTimeout(() => reject(new Error("slow client was not cut off within 8 s")), 8000);
    });
    // headersTimeout is 800 ms here (checked every 200 ms).
    expect(closed.ms).toBeLessThan(3000);
    expect(closed.data === "" || closed.data.startsWith("HTTP/1.1 408")).toBe(true);
  }, 10_000);

  it("keeps the API token and device key at mode 0600", () => {
    expect(statSync(join(agent.dataDir, "api-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(agent.dataDir, "device-key.pem")).mode & 0o777).toBe(0o600);
  });
});
