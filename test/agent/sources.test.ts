import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenQueue } from "../../agent/runtime/tokenQueue.js";
import { runSseSource, SseSourceError } from "../../agent/sources/sseSource.js";
import { fileSource } from "../../agent/sources/streamSource.js";
import { TokenSplitter } from "../../agent/sources/tokenSplitter.js";

const CONSUMER = fileURLToPath(new URL("./children/stdinConsumer.ts", import.meta.url));

function texts(queue: TokenQueue): string[] {
  const out: string[] = [];
  for (let t = queue.take(); t; t = queue.take()) if (t.type === "text") out.push(t.text);
  return out;
}

describe("token splitter", () => {
  it("splits across chunk boundaries, by words or lines, and caps token length", () => {
    const words = new TokenSplitter("words", 4);
    expect([...words.push("hel"), ...words.push("lo wor"), ...words.push("ld\n  x"), ...words.end()]).toEqual(["hell", "o", "worl", "d", "x"]);
    const lines = new TokenSplitter("lines");
    expect([...lines.push("a b\n\nc"), ...lines.push("d\r\n"), ...lines.end()]).toEqual(["a b", "cd"]);
  });
});

describe("stdin source (real child process)", () => {
  it("delivers every token in order and pauses stdin while the queue is full", async () => {
    const n = 1000;
    const input = Array.from({ length: n }, (_, i) => `t${i}`).join(i2ws()) + "\n";
    const child = spawn(process.execPath, ["--import", "tsx", CONSUMER], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    const [, count, first, last, , pauses] = out.trim().split(" ");
    expect(Number(count)).toBe(n);
    expect(first).toBe("t0");
    expect(last).toBe(`t${n - 1}`);
    expect(Number(pauses)).toBeGreaterThan(0);
  }, 30_000);
});

/** Mixed whitespace between tokens: spaces, tabs and newlines. */
function i2ws(): string {
  return " \t\n".charAt(Math.floor(Math.random() * 3));
}

describe("file source", () => {
  const dir = mkdtempSync(join(tmpdir(), "bo-src-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a file as tokens, paced by the queue", async () => {
    const path = join(dir, "in.txt");
    writeFileSync(path, "the quick brown\nfox jumps\n\nover the lazy dog\n");
    const queue = new TokenQueue(3);
    const source = fileSource(path, queue);
    const got: string[] = [];
    const drain = setInterval(() => got.push(...texts(queue)), 1);
    await source.done;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(drain);
    got.push(...texts(queue));
    expect(got).toEqual(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]);
  });

  it("one token per line in lines mode", async () => {
    const path = join(dir, "lines.txt");
    writeFileSync(path, "first line\nsecond line\n");
    const queue = new TokenQueue(10);
    await fileSource(path, queue, "lines").done;
    expect(texts(queue)).toEqual(["first line", "second line"]);
  });
});

describe("OpenAI-compatible SSE source (real local HTTP server)", () => {
  let server: Server;
  let base = "";
  const requests: { path: string; body: Record<string, unknown> }[] = [];
  const pieces = Array.from({ length: 40 }, (_, i) => `w${i} `);

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        requests.push({ path: req.url ?? "", body });
        if (req.url === "/fail") {
          res.writeHead(500, { "content-type": "application/json" }).end('{"error":"boom"}');
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        if (req.url === "/stall") {
          res.write(": keep-alive comment\n\n");
          return; // never finishes
        }
        const chat = req.url === "/v1/chat/completions";
        const events = pieces.map((p) =>
          JSON.stringify(chat ? { choices: [{ index: 0, delta: { content: p } }] } : { choices: [{ index: 0, text: p }] }),
        );
        if (chat) events.unshift(JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant" } }] }));
        // Write events in odd-sized slices so lines are split across TCP chunks.
        const stream = events.map((e) => `data: ${e}\n\n`).join("") + "data: [DONE]\n\n";
        let at = 0;
        const tick = setInterval(() => {
          res.write(stream.slice(at, at + 37));
          at += 37;
          if (at >= stream.length) {
            clearInterval(tick);
            res.end();
          }
        }, 1);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("streams /v1/completions text pieces into the queue, in order, until [DONE]", async () => {
    const queue = new TokenQueue(1000);
    const result = await runSseSource({ url: `${base}/v1/completions`, prompt: "hi", model: "tiny", maxTokens: 40 }, queue);
    expect(result).toEqual({ tokens: 40, done: true });
    expect(texts(queue)).toEqual(pieces);
    expect(requests.at(-1)!.body).toEqual({ model: "tiny", stream: true, max_tokens: 40, prompt: "hi" });
  });

  it("reads chat deltas and honours backpressure from a small queue", async () => {
    const queue = new TokenQueue(4);
    const got: string[] = [];
    let maxDepth = 0;
    const drain = setInterval(() => {
      maxDepth = Math.max(maxDepth, queue.depth);
      // Drain only once the source has met a full queue: the backpressure path runs whatever the
      // timing (a drain faster than a slowed-down server never let the queue fill).
      if (queue.stats().refused === 0) return;
      const t = queue.take();
      if (t?.type === "text") got.push(t.text);
    }, 2);
    const result = await runSseSource({ url: `${base}/v1/chat/completions`, prompt: "hello" }, queue);
    await new Promise((r) => setTimeout(r, 30));
    clearInterval(drain);
    got.push(...texts(queue));
    expect(result.done).toBe(true);
    expect(got).toEqual(pieces);
    expect(maxDepth).toBeLessThanOrEqual(4);
    expect(queue.stats().refused).toBeGreaterThan(0); // it hit the limit and waited
    expect(requests.at(-1)!.body.messages).toEqual([{ role: "user", content: "hello" }]);
  });

  it("reports an HTTP error status and an idle stream with stable codes", async () => {
    const queue = new TokenQueue(10);
    await expect(runSseSource({ url: `${base}/fail`, prompt: "x" }, queue)).rejects.toMatchObject({ code: "sse_http_status" });
    await expect(runSseSource({ url: `${base}/stall`, prompt: "x", idleTimeoutMs: 200 }, queue)).rejects.toBeInstanceOf(SseSourceError);
    await expect(runSseSource({ url: `${base}/stall`, prompt: "x", idleTimeoutMs: 200 }, queue)).rejects.toMatchObject({ code: "sse_idle_timeout" });
  });
});
