import type { TokenQueue } from "../runtime/tokenQueue.js";

/**
 * Tokens from an OpenAI-compatible streaming completion endpoint (llama.cpp's server, Ollama,
 * vLLM…): POST with `stream: true`, read server-sent events, take `choices[0].text` (completions)
 * or `choices[0].delta.content` (chat) from each `data:` line, stop at `data: [DONE]`. Each piece
 * the model emits is one token for the clock. The body is read only as fast as the queue drains
 * (backpressure reaches the server through TCP), and every line is size-limited.
 */
export interface SseSourceOptions {
  /** Full endpoint URL, e.g. http://127.0.0.1:8080/v1/completions or …/v1/chat/completions. */
  readonly url: string;
  /** `prompt` for /completions; sent as a single user message for chat endpoints. */
  readonly prompt: string;
  readonly model?: string;
  readonly maxTokens?: number;
  /** Bearer token for the endpoint, if it needs one. */
  readonly apiKey?: string;
  /** Abort the request when no byte arrives for this long; default 30 s. */
  readonly idleTimeoutMs?: number;
  /** Largest SSE line accepted; default 64 KiB. */
  readonly maxLineBytes?: number;
}

export class SseSourceError extends Error {
  override readonly name = "SseSourceError";
  constructor(
    readonly code: "sse_http_status" | "sse_bad_event" | "sse_line_too_long" | "sse_idle_timeout" | "sse_network",
    message: string,
  ) {
    super(message);
  }
}

export interface SseResult {
  readonly tokens: number;
  /** True when the stream ended with `[DONE]`. */
  readonly done: boolean;
}

/** Extracts the text of one `data:` payload; undefined when it carries none (e.g. a role-only delta). */
export function sseEventText(data: string): string | undefined {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    throw new SseSourceError("sse_bad_event", `data line is not JSON: ${data.slice(0, 80)}`);
  }
  const choice = (event as { choices?: unknown }).choices;
  if (!Array.isArray(choice) || choice.length === 0) return undefined;
  const first = choice[0] as { text?: unknown; delta?: { content?: unknown } };
  if (typeof first.text === "string") return first.text;
  if (typeof first.delta?.content === "string") return first.delta.content;
  return undefined;
}

/** Streams one completion into the queue. Resolves at `[DONE]` or end of body; rejects on errors. */
export async function runSseSource(options: SseSourceOptions, queue: TokenQueue, signal?: AbortSignal): Promise<SseResult> {
  const chat = /\/chat\/completions\/?$/.test(new URL(options.url).pathname);
  const body = {
    ...(options.model !== undefined ? { model: options.model } : {}),
    stream: true,
    ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
    ...(chat ? { messages: [{ role: "user", content: options.prompt }] } : { prompt: options.prompt }),
  };
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const maxLine = options.maxLineBytes ?? 64 * 1024;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort);
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new SseSourceError("sse_idle_timeout", `no data for ${idleMs} ms`)), idleMs);
  };
  let tokens = 0;
  try {
    armIdle();
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (err) {
      throw asSseError(err, controller.signal);
    }
    if (!response.ok || !response.body) {
      throw new SseSourceError("sse_http_status", `${options.url} answered HTTP ${response.status}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw asSseError(err, controller.signal);
      }
      if (chunk.done) break;
      armIdle();
      buffer += chunk.value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith("data:")) continue; // comments, event:, id:, retry:, blank separators
        const data = line.slice(5).trimStart();
        if (data === "[DONE]") {
          await reader.cancel().catch(() => {});
          return { tokens, done: true };
        }
        const text = sseEventText(data);
        if (text === undefined || text.length === 0) continue;
        // Backpressure: wait (not reading the socket) until the queue has room.
        while (!queue.offer([{ type: "text", text, source: "sse" }])) {
          if (idle) clearTimeout(idle);
          await queue.whenSpace();
          if (controller.signal.aborted) throw asSseError(controller.signal.reason, controller.signal);
          armIdle();
        }
        tokens++;
      }
      if (buffer.length > maxLine) throw new SseSourceError("sse_line_too_long", `SSE line over ${maxLine} bytes`);
    }
    return { tokens, done: false };
  } finally {
    if (idle) clearTimeout(idle);
    signal?.removeEventListener("abort", onAbort);
    controller.abort();
  }
}

function asSseError(err: unknown, signal: AbortSignal): SseSourceError {
  if (signal.reason instanceof SseSourceError) return signal.reason;
  if (err instanceof SseSourceError) return err;
  return new SseSourceError("sse_network", err instanceof Error ? err.message : String(err));
}
