import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { z } from "zod";

/**
 * A refusal or failure talking to the edge over HTTP. `status` 0 means no answer at all (network
 * down, timeout): the caller retries; any other status is the edge's word, with its stable `code`.
 */
export class EdgeHttpError extends Error {
  override readonly name = "EdgeHttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** True when retrying later may succeed (no answer, 429, 5xx). */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Any answer the link reads (JSON documents, proofs) is bounded; nothing an edge sends is read whole. */
const DEFAULT_MAX_BYTES = 1024 * 1024;

export interface EdgeRequestInit {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

interface EdgeResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly body: string;
}

/**
 * Connections are kept alive between requests: the auditor asks the same edge every few seconds,
 * and a new TCP (and TLS) connection each time cost more CPU on the Pi than the request itself.
 * Idle connections are dropped after 15 s and never keep the process alive.
 */
const KEEP_ALIVE = { keepAlive: true, maxSockets: 4, timeout: 15_000 } as const;
const httpAgent = new HttpAgent(KEEP_ALIVE);
const httpsAgent = new HttpsAgent(KEEP_ALIVE);

/**
 * One HTTP(S) request with node:http rather than the global fetch: fetch loads undici, about 13 MB
 * of resident memory on a 512 MB Pi for a handful of small requests a minute. The body is read up
 * to `maxBytes`; a longer answer is refused, not buffered.
 */
function request(url: string, init: EdgeRequestInit, maxBytes = DEFAULT_MAX_BYTES): Promise<EdgeResponse> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, signal, method = "GET", headers = {}, body } = init;
  const target = new URL(url);
  // One controller per request, fed by a timer and by the caller's (long-lived) signal through a
  // listener removed when the request ends: AbortSignal.any over a long-lived signal keeps every
  // combined signal reachable from it for as long as it lives (nodejs/node#55351).
  const controller = new AbortController();
  const abort = controller.signal;
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const forward = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  const cleanup = (): void => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", forward);
  };
  const secure = target.protocol === "https:";
  const send = secure ? httpsRequest : httpRequest;
  const unreachable = (why: string) => new EdgeHttpError(0, "edge_unreachable", `cannot reach ${target.origin}: ${why}`);
  return new Promise<EdgeResponse>((resolve, reject) => {
    const req = send(
      target,
      {
        method,
        signal: abort,
        agent: secure ? httpsAgent : httpAgent,
        headers: body === undefined ? headers : { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy();
            reject(new EdgeHttpError(res.statusCode ?? 0, "bad_response", `${target.pathname} answered more than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", (err) => reject(unreachable(err.message)));
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => reject(unreachable(abort.aborted ? "timed out or aborted" : (err.code ?? err.message))));
    req.end(body);
  }).finally(cleanup);
}

function refusal(url: string, res: EdgeResponse): EdgeHttpError {
  const text = res.body;
  let code = `http_${res.status}`;
  let message = `${new URL(url).pathname} answered HTTP ${res.status}`;
  let details: Record<string, unknown> = {};
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = `${message}: ${body.error.message}`;
    if (typeof body.error?.details === "object" && body.error.details !== null) details = body.error.details as Record<string, unknown>;
  } catch {
    // not the edge's JSON error shape; keep the status
  }
  return new EdgeHttpError(res.status, code, message, details);
}

/** GET/POST JSON, validated with `schema` (an edge answering nonsense is an error, never trusted). */
export async function edgeJson<T>(url: string, schema: z.ZodType<T>, init: EdgeRequestInit = {}): Promise<T> {
  const res = await request(url, { ...init, headers: { Accept: "application/json", ...init.headers } });
  if (!res.ok) throw refusal(url, res);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new EdgeHttpError(res.status, "bad_response", `${new URL(url).pathname} did not answer JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeHttpError(res.status, "bad_response", `${new URL(url).pathname} answered an unexpected shape: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`);
  }
  return parsed.data;
}

/** GET a text/plain body (checkpoint, verifier key), at most `maxBytes`. */
export async function edgeText(url: string, maxBytes = 16 * 1024, init: EdgeRequestInit = {}): Promise<string> {
  const res = await request(url, init, maxBytes);
  if (!res.ok) throw refusal(url, res);
  return res.body;
}
