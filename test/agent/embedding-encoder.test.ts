import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LamportClock } from "../../shared/causality/lamport-clock.js";
import { hashAngles } from "../../agent/engine/encoder.js";
import { embeddingAngles } from "../../agent/engine/phase-token.js";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { Ledger } from "../../agent/ledger/ledger.js";
import { TokenClock } from "../../agent/clock/tokenClock.js";
import { EmbeddingEncoder, EmbeddingError, parseEmbeddings } from "../../agent/runtime/embeddingEncoder.js";
import { EngineCore } from "../../agent/runtime/engineCore.js";
import { MeshOscillator } from "../../agent/runtime/meshOscillator.js";
import { TickPipeline } from "../../agent/runtime/tickPipeline.js";
import { TokenQueue } from "../../agent/runtime/tokenQueue.js";
import { listenOnLoopback, type LoopbackListener } from "../support/loopback-listen.js";

/** The stand-in's deterministic embedding of a text: 32 numbers from its characters. */
function embed(text: string): number[] {
  return Array.from({ length: 32 }, (_, k) => Math.sin((k + 1) * (text.length + 1)) + (text.charCodeAt(k % text.length) || 0) / 100);
}

type Mode = "ok" | "other-length" | "slow" | "hung" | "not-json" | "wrong-count" | "non-finite" | "too-many-dims" | "huge" | "huge-declared" | "status-500";
let mode: Mode = "ok";
const requests: { path: string; body: { model?: unknown; input?: unknown } }[] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  let raw = "";
  req.on("data", (c: Buffer) => (raw += c.toString()));
  req.on("end", () => {
    const body = JSON.parse(raw) as { model?: unknown; input?: string[] };
    requests.push({ path: req.url ?? "", body });
    const input = Array.isArray(body.input) ? body.input : [];
    const answer = () => JSON.stringify({ object: "list", data: input.map((t, index) => ({ object: "embedding", index, embedding: embed(t) })) });
    switch (mode) {
      case "ok":
        res.setHeader("content-type", "application/json").end(answer());
        return;
      case "other-length":
        res.end(JSON.stringify({ data: input.map((t, index) => ({ index, embedding: [...embed(t), 0.25] })) }));
        return;
      case "slow":
        setTimeout(() => res.writable && res.setHeader("content-type", "application/json").end(answer()), 800);
        return;
      case "hung":
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"data": ['); // and never more
        return;
      case "not-json":
        res.end("<html>oops</html>");
        return;
      case "wrong-count":
        res.end(JSON.stringify({ data: [{ embedding: [1, 2], index: 0 }, { embedding: [1, 2], index: 1 }, { embedding: [1], index: 2 }].slice(0, input.length + 1) }));
        return;
      case "non-finite":
        res.end(JSON.stringify({ data: input.map((_, index) => ({ index, embedding: [1, "NaN", 3] })) }));
        return;
      case "too-many-dims":
        res.end(JSON.stringify({ data: input.map((_, index) => ({ index, embedding: new Array(5000).fill(0.5) })) }));
        return;
      case "huge": {
        // Chunked, no content-length: 3 MiB of digits, past the 1 MiB cap set below.
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = "1".repeat(64 * 1024);
        let sent = 0;
        const push = (): void => {
          while (sent < 48 && res.write(chunk)) sent++;
          if (sent < 48 && res.writable) res.once("drain", push);
          else res.end();
        };
        push();
        return;
      }
      case "huge-declared":
        res.writeHead(200, { "content-type": "application/json", "content-length": String(50 * 1024 * 1024) });
        res.write("{");
        return;
      case "status-500":
        res.writeHead(500).end("{}");
        return;
    }
  });
}

let server: LoopbackListener;
beforeAll(async () => {
  server = await listenOnLoopback(createServer(handler));
});
afterAll(async () => {
  await server.close();
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function encoder(extra: Partial<ConstructorParameters<typeof EmbeddingEncoder>[0]> = {}): EmbeddingEncoder {
  return new EmbeddingEncoder({ url: server.url, model: "stand-in", timeoutMs: 3000, maxResponseBytes: 1024 * 1024, maxDimensions: 4096, ...extra });
}

describe("embeddings encoder against a real loopback HTTP stand-in", () => {
  it("asks POST /v1/embeddings {model, input}, caches the angles, and answers from the cache", async () => {
    mode = "ok";
    requests.length = 0;
    const enc = encoder();
    // Not fetched yet: the fallback (hash) answers at once, and a fetch starts.
    expect(Array.from(enc.encode("alpha"))).toEqual(Array.from(hashAngles("alpha")));
    enc.prefetch("beta");
    await until(() => enc.stats().cached === 2);
    expect(requests[0]!.path).toBe("/v1/embeddings");
    expect(requests[0]!.body.model).toBe("stand-in");
    expect(Array.from(enc.encode("beta"))).toEqual(Array.from(embeddingAngles(embed("beta"), 8)));
    expect(Array.from(enc.encode("alpha"))).toEqual(Array.from(embeddingAngles(embed("alpha"), 8)));
    expect(enc.stats()).toMatchObject({ hits: 2, fallbacks: 1, failures: 0 });
    enc.close();
  });

  it("evicts the least recently used embedding beyond cacheSize", async () => {
    mode = "ok";
    const enc = encoder({ cacheSize: 2 });
    for (const t of ["a1", "a2"]) enc.prefetch(t);
    await until(() => enc.stats().cached === 2);
    enc.encode("a1"); // a1 is now the most recent
    enc.prefetch("a3");
    await until(() => enc.stats().inFlight === 0 && enc.stats().pending === 0 && enc.stats().requests >= 2);
    const hitsBefore = enc.stats().hits;
    enc.encode("a1");
    enc.encode("a3");
    expect(enc.stats().hits).toBe(hitsBefore + 2);
    enc.encode("a2"); // evicted
    expect(enc.stats().fallbacks).toBe(1);
    enc.close();
  });

  it("keeps the length of the endpoint's first good answer: embeddings of another length fail with embeddings_bad_answer", async () => {
    mode = "ok";
    const enc = encoder();
    enc.prefetch("first");
    await until(() => enc.stats().cached === 1);
    mode = "other-length";
    enc.prefetch("second");
    await until(() => enc.stats().failures === 1);
    expect(enc.stats()).toMatchObject({ cached: 1, lastError: "embeddings_bad_answer" });
    expect(Array.from(enc.encode("second"))).toEqual(Array.from(hashAngles("second")));
    enc.close();
  });

  const hostile: [Mode, string][] = [
    ["slow", "embeddings_timeout"],
    ["hung", "embeddings_timeout"],
    ["not-json", "embeddings_bad_answer"],
    ["wrong-count", "embeddings_bad_answer"],
    ["non-finite", "embeddings_bad_answer"],
    ["too-many-dims", "embeddings_bad_answer"],
    ["huge", "embeddings_too_large"],
    ["huge-declared", "embeddings_too_large"],
    ["status-500", "embeddings_http_status"],
  ];
  for (const [m, code] of hostile) {
    it(`a ${m} endpoint fails with ${code}, caches nothing, and every token falls back to the hash encoder`, async () => {
      mode = m;
      const enc = encoder({ timeoutMs: 300 }); // the slow stand-in answers after 800 ms
      enc.prefetch("gamma");
      await until(() => enc.stats().failures === 1, 5000);
      expect(enc.stats()).toMatchObject({ cached: 0, lastError: code, inFlight: 0 });
      expect(Array.from(enc.encode("gamma"))).toEqual(Array.from(hashAngles("gamma")));
      // Backing off: a second prefetch right after the failure sends nothing.
      const sent = requests.length;
      enc.prefetch("delta");
      await new Promise((r) => setTimeout(r, 100));
      expect(requests.length).toBe(sent);
      enc.close();
    });
  }

  it("validates answers: ordered by index, each 1..max finite numbers, no repeated index", () => {
    expect(parseEmbeddings(JSON.stringify({ data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }] }), 2, 4)).toEqual([[1], [2]]);
    const bad = (text: string) => expect(() => parseEmbeddings(text, 2, 4)).toThrow(EmbeddingError);
    bad(JSON.stringify({ data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [1] }] }));
    bad(JSON.stringify({ data: [{ index: 0, embedding: [] }, { index: 1, embedding: [1] }] }));
    bad(JSON.stringify({ data: [{ index: 0, embedding: [1, 2, 3, 4, 5] }, { index: 1, embedding: [1] }] }));
    bad(JSON.stringify({ data: [{ index: 0, embedding: [1e400] }, { index: 1, embedding: [1] }] }));
    bad(JSON.stringify({ data: [{ index: 0, embedding: [1] }, { index: 7, embedding: [1] }] }));
    bad(JSON.stringify({ data: null }));
    bad("null");
  });

  it("the tick never waits on the endpoint: a real 20 Hz clock keeps processing tokens while the endpoint hangs", async () => {
    mode = "hung";
    requests.length = 0;
    const dir = mkdtempSync(join(tmpdir(), "bo-emb-"));
    const key = loadOrCreateDeviceKey(dir);
    const ledger = await Ledger.open({ dir: join(dir, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw) });
    const enc = encoder({ timeoutMs: 60_000 }); // longer than the test: every request stays hung
    const queue = new TokenQueue(64);
    const pipeline = new TickPipeline(new EngineCore({ hz: 20, encoder: enc }), new MeshOscillator(1, { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 5000 }), queue, ledger, new LamportClock(), { hz: 20 });
    queue.offer(Array.from({ length: 30 }, (_, i) => ({ type: "text" as const, text: `word${i}`, source: "t" })));
    const clock = new TokenClock({ hz: 20 });
    clock.start((tick) => pipeline.onTick(tick, Date.now()));
    await until(() => pipeline.counters().tokens === 30, 10_000);
    clock.stop();
    // Every token ran (hashed: its embedding never came) while requests to the endpoint were hanging.
    expect(requests.length).toBeGreaterThan(0);
    expect(enc.stats()).toMatchObject({ cached: 0, hits: 0, fallbacks: 30 });
    expect(enc.stats().inFlight).toBeGreaterThan(0);
    enc.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the pipeline prefetches queued tokens, so with a working endpoint they run on their embeddings", async () => {
    mode = "ok";
    const dir = mkdtempSync(join(tmpdir(), "bo-emb-"));
    const key = loadOrCreateDeviceKey(dir);
    const ledger = await Ledger.open({ dir: join(dir, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw) });
    const enc = encoder();
    const queue = new TokenQueue(64);
    const pipeline = new TickPipeline(new EngineCore({ hz: 20, encoder: enc }), new MeshOscillator(1, { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 5000 }), queue, ledger, new LamportClock(), { hz: 20, prefetchTokens: 40 });
    queue.offer(Array.from({ length: 40 }, (_, i) => ({ type: "text" as const, text: `token${i}`, source: "t" })));
    let index = 0;
    const tick = () => pipeline.onTick({ index, dueMs: index * 50, ranMs: index * 50, latenessMs: 0 }, 1_000_000 + 50 * index++);
    tick(); // the first token falls back; the tick tells the encoder about the 39 behind it
    await until(() => enc.stats().cached >= 39);
    while (queue.depth > 0) tick();
    expect(enc.stats()).toMatchObject({ fallbacks: 1, hits: 39 });
    enc.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
