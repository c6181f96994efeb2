import { embeddingAngles } from "../engine/phase-token.js";
import { hashPhaseEncoder, type PhaseEncoder } from "../engine/encoder.js";

/**
 * A phase encoder backed by an OpenAI-compatible `POST /v1/embeddings` endpoint (llama.cpp's
 * server, Ollama): body {model, input: [texts]}, answer {data: [{embedding: number[], index}]}.
 *
 * The tick never waits for it. `prefetch(text)` is called when a token is queued and starts the
 * request in the background; `encode(text)` — called by the engine inside a tick — answers from
 * the cache only. A token whose embedding is not cached when its tick comes (not back yet, failed,
 * timed out, dropped because too many were pending) is encoded by the fallback (the hash encoder)
 * and counted in `fallbacks`: a token's budget is the time it waits in the queue, never the tick's.
 * The same token later in the stream finds its embedding cached.
 *
 * Everything the endpoint sends is bounded: the body is read up to `maxResponseBytes` and cut
 * beyond; a request is aborted after `timeoutMs` (headers and body together); the answer must be
 * one embedding per input, each 1..`maxDimensions` finite numbers. A bad answer fails its batch
 * (those tokens fall back) and backs off, doubling from 1 s to 30 s, so a broken endpoint costs
 * at most a request every 30 s.
 */
export interface EmbeddingEncoderOptions {
  /** The endpoint: `…/v1/embeddings`, or a base URL to which `/v1/embeddings` is appended. */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string;
  /** Per request, headers and body; default 2000 ms. */
  readonly timeoutMs?: number;
  /** Embeddings kept (LRU, as angles); default 4096. */
  readonly cacheSize?: number;
  /** Longest embedding accepted; default 8192. */
  readonly maxDimensions?: number;
  /** Largest answer body read; default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** Texts per request; default 16. */
  readonly batchSize?: number;
  /** Requests in flight at most; default 2. */
  readonly concurrency?: number;
  /** Texts waiting for a request at most (more are not prefetched: they fall back); default 256. */
  readonly maxPending?: number;
  /** Random planes (angles per embedding, 1..16); default 8. */
  readonly planes?: number;
  /** Encoder for tokens whose embedding is not ready; default the hash encoder. */
  readonly fallback?: PhaseEncoder;
  /** Texts longer than this are cut before they are sent (and cached under the cut text); default 2048. */
  readonly maxInputChars?: number;
  readonly log?: (level: "warn" | "info", message: string, data?: Record<string, unknown>) => void;
}

export interface EmbeddingEncoderStats {
  readonly hits: number;
  readonly fallbacks: number;
  readonly requests: number;
  readonly failures: number;
  readonly dropped: number;
  readonly cached: number;
  readonly pending: number;
  readonly inFlight: number;
  readonly lastError: string | null;
}

export class EmbeddingError extends Error {
  override readonly name = "EmbeddingError";
  constructor(
    readonly code: "embeddings_http_status" | "embeddings_timeout" | "embeddings_too_large" | "embeddings_bad_answer" | "embeddings_network",
    message: string,
  ) {
    super(message);
  }
}

export class EmbeddingEncoder implements PhaseEncoder {
  readonly name: string;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly maxDimensions: number;
  /**
   * The embedding length of the first good answer: a model's is fixed, and an endpoint whose lengths
   * vary would make the encoder draw new random planes (tens of ms per length) on the event loop.
   */
  private dimensions: number | undefined;
  private readonly maxResponseBytes: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly planes: number;
  private readonly maxInputChars: number;
  private readonly fallback: PhaseEncoder;
  private readonly cache = new Map<string, Float64Array>();
  private readonly pending = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly controllers = new Set<AbortController>();
  private requestsInFlight = 0;
  private backoffUntil = 0;
  private backoffMs = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private counts = { hits: 0, fallbacks: 0, requests: 0, failures: 0, dropped: 0 };
  private lastError: string | null = null;

  constructor(private readonly options: EmbeddingEncoderOptions) {
    const u = new URL(options.url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new RangeError(`embeddings url must be http(s), got ${u.protocol}`);
    const path = u.pathname.replace(/\/$/, "");
    this.url = /\/embeddings$/.test(path) ? u.href : new URL(/\/v1$/.test(path) ? `${path}/embeddings` : `${path}/v1/embeddings`, u).href;
    this.timeoutMs = positive("timeoutMs", options.timeoutMs ?? 2000);
    this.cacheSize = positive("cacheSize", options.cacheSize ?? 4096);
    this.maxDimensions = positive("maxDimensions", options.maxDimensions ?? 8192);
    this.maxResponseBytes = positive("maxResponseBytes", options.maxResponseBytes ?? 4 * 1024 * 1024);
    this.batchSize = positive("batchSize", options.batchSize ?? 16);
    this.concurrency = positive("concurrency", options.concurrency ?? 2);
    this.maxPending = positive("maxPending", options.maxPending ?? 256);
    this.planes = positive("planes", options.planes ?? 8);
    this.maxInputChars = positive("maxInputChars", options.maxInputChars ?? 2048);
    if (this.planes > 16) throw new RangeError(`planes must be ≤ 16, got ${this.planes}`);
    this.fallback = options.fallback ?? hashPhaseEncoder;
    this.name = `embeddings:${options.model.slice(0, 64)}+${this.fallback.name}`;
  }

  /** Synchronous, never waits: the cached angles, else the fallback's (and a prefetch for next time). */
  encode(text: string): Float64Array {
    const key = text.slice(0, this.maxInputChars);
    const hit = this.cache.get(key);
    if (hit) {
      this.counts.hits++;
      this.cache.delete(key); // LRU: most recently used last
      this.cache.set(key, hit);
      return hit;
    }
    this.counts.fallbacks++;
    this.prefetch(text);
    return this.fallback.encode(text);
  }

  /** Starts fetching `text`'s embedding in the background (no-op when cached, pending or in flight). */
  prefetch(text: string): void {
    if (this.closed) return;
    const key = text.slice(0, this.maxInputChars);
    if (key.length === 0 || this.cache.has(key) || this.pending.has(key) || this.inFlight.has(key)) return;
    if (this.pending.size >= this.maxPending) {
      this.counts.dropped++;
      return;
    }
    this.pending.add(key);
    this.pump();
  }

  stats(): EmbeddingEncoderStats {
    return { ...this.counts, cached: this.cache.size, pending: this.pending.size, inFlight: this.inFlight.size, lastError: this.lastError };
  }

  /** Aborts requests in flight and stops prefetching. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const c of this.controllers) c.abort();
    this.pending.clear();
  }

  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    if (now < this.backoffUntil) {
      this.backoffTimer ??= setTimeout(() => {
        this.backoffTimer = undefined;
        this.pump();
      }, this.backoffUntil - now);
      this.backoffTimer.unref();
      return;
    }
    while (this.requestsInFlight < this.concurrency && this.pending.size > 0) {
      const batch: string[] = [];
      for (const t of this.pending) {
        batch.push(t);
        if (batch.length >= this.batchSize) break;
      }
      for (const t of batch) {
        this.pending.delete(t);
        this.inFlight.add(t);
      }
      this.requestsInFlight++;
      void this.request(batch).finally(() => {
        this.requestsInFlight--;
        for (const t of batch) this.inFlight.delete(t);
        this.pump();
      });
    }
  }

  private async request(batch: string[]): Promise<void> {
    this.counts.requests++;
    try {
      const vectors = await this.fetchEmbeddings(batch);
      const length = vectors[0]!.length;
      if (vectors.some((v) => v.length !== (this.dimensions ?? length))) {
        throw new EmbeddingError("embeddings_bad_answer", `embeddings of ${this.dimensions ?? length} numbers expected, as the endpoint first answered`);
      }
      this.dimensions = length;
      for (let i = 0; i < batch.length; i++) this.remember(batch[i]!, embeddingAngles(vectors[i]!, this.planes));
      this.backoffMs = 0;
    } catch (err) {
      if (this.closed) return;
      this.counts.failures++;
      this.lastError = err instanceof EmbeddingError ? err.code : "embeddings_network";
      this.backoffMs = Math.min(30_000, this.backoffMs === 0 ? 1000 : this.backoffMs * 2);
      this.backoffUntil = Date.now() + this.backoffMs;
      // What was waiting is dropped, not queued up behind the outage: those tokens fall back.
      this.counts.dropped += this.pending.size;
      this.pending.clear();
      this.options.log?.("warn", "embeddings request failed", { code: this.lastError, message: (err as Error).message, backoffMs: this.backoffMs });
    }
  }

  private remember(key: string, angles: Float64Array): void {
    this.cache.set(key, angles);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** One request: the texts' embeddings, in order, validated. */
  private async fetchEmbeddings(texts: string[]): Promise<number[][]> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    timer.unref();
    try {
      let response: Response;
      try {
        response = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
          body: JSON.stringify({ model: this.options.model, input: texts }),
          signal: controller.signal,
          redirect: "error",
        });
      } catch (err) {
        throw controller.signal.aborted ? new EmbeddingError("embeddings_timeout", `no answer within ${this.timeoutMs} ms`) : new EmbeddingError("embeddings_network", (err as Error).message);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new EmbeddingError("embeddings_http_status", `HTTP ${response.status}`);
      }
      const text = await readCapped(response, this.maxResponseBytes, controller, this.timeoutMs);
      return parseEmbeddings(text, texts.length, this.maxDimensions);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }
}

function positive(name: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** The body as text, at most `max` bytes (beyond: the request is aborted). */
async function readCapped(response: Response, max: number, controller: AbortController, timeoutMs: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    controller.abort();
    throw new EmbeddingError("embeddings_too_large", `answer of ${declared} bytes (limit ${max})`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        controller.abort();
        throw new EmbeddingError("embeddings_too_large", `answer over ${max} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof EmbeddingError) throw err;
    throw controller.signal.aborted ? new EmbeddingError("embeddings_timeout", `answer not complete within ${timeoutMs} ms`) : new EmbeddingError("embeddings_network", (err as Error).message);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Validates an answer: {data: [{embedding: number[], index?: integer}]}, one per input (ordered by
 * `index` when every item has one), each embedding 1..maxDimensions finite numbers.
 */
export function parseEmbeddings(text: string, count: number, maxDimensions: number): number[][] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EmbeddingError("embeddings_bad_answer", "answer is not JSON");
  }
  const data = (value as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length !== count) throw new EmbeddingError("embeddings_bad_answer", `expected data with ${count} embeddings`);
  const out: (number[] | undefined)[] = new Array(count).fill(undefined);
  const indexed = data.every((d) => Number.isSafeInteger((d as { index?: unknown } | null)?.index));
  data.forEach((item: unknown, position) => {
    const embedding = (item as { embedding?: unknown } | null)?.embedding;
    if (!Array.isArray(embedding) || embedding.length < 1 || embedding.length > maxDimensions) {
      throw new EmbeddingError("embeddings_bad_answer", `embedding ${position}: expected 1..${maxDimensions} numbers`);
    }
    for (const x of embedding) if (typeof x !== "number" || !Number.isFinite(x)) throw new EmbeddingError("embeddings_bad_answer", `embedding ${position}: not a finite number`);
    const at = indexed ? (item as { index: number }).index : position;
    if (at < 0 || at >= count || out[at] !== undefined) throw new EmbeddingError("embeddings_bad_answer", `embedding ${position}: bad or repeated index`);
    out[at] = embedding as number[];
  });
  return out as number[][];
}
