import { parseRetryAfter, signatureHeader, type AttemptResult } from "../../shared/webhooks/index.js";

/**
 * One HTTP attempt: POST the fixed body with a fresh timestamp and signature, never follow a
 * redirect, give up after the timeout, read at most RESPONSE_READ_BYTES of the answer. Returns
 * what happened; deciding what it means is shared/webhooks/delivery-outcome.ts's job.
 */
export const DELIVERY_TIMEOUT_MS = 15_000;
export const RESPONSE_READ_BYTES = 4096;
export const USER_AGENT = "BecomingONE-Webhooks/1";

export interface DeliveryRequest {
  readonly url: string;
  readonly messageId: string;
  readonly body: string;
  /** `whsec_…` texts; each signs. */
  readonly secrets: readonly string[];
  /** The attempt's instant (epoch ms): its `webhook-timestamp` is this in whole seconds. */
  readonly at: number;
  readonly timeoutMs: number;
}

export interface DeliveryReport {
  readonly result: AttemptResult;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  /** The first bytes of the answer, decoded as UTF-8 (lossy). */
  readonly response: string | null;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Reads up to `max` bytes of a body, then cancels the rest (the connection is not held open for it). */
async function readPrefix(response: Response, max: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, max));
  let offset = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, bytes.length - offset);
    bytes.set(chunk.subarray(0, take), offset);
    offset += take;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 200);
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return `${err.message}${detail}`.slice(0, 200);
}

export async function deliver(request: DeliveryRequest, fetchImpl: FetchLike = fetch): Promise<DeliveryReport> {
  const timestamp = Math.floor(request.at / 1000);
  const signature = await signatureHeader(request.secrets, { id: request.messageId, timestamp, body: request.body });
  const started = performance.now();
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetchImpl(request.url, {
      method: "POST",
      redirect: "manual",
      signal,
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": request.messageId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body: request.body,
    });
    let text: string | null = null;
    let bodyError: string | null = null;
    try {
      text = await readPrefix(response, RESPONSE_READ_BYTES);
    } catch (err) {
      // A 2xx whose body then stalls still counts as received; the status line is the answer.
      bodyError = isTimeout(err) ? "timed out reading the answer" : describe(err);
    }
    const latencyMs = performance.now() - started;
    const status = response.status;
    const ok = status >= 200 && status <= 299;
    return {
      result: { kind: "response", status, retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), request.at + latencyMs) },
      statusCode: status,
      latencyMs,
      error: ok ? null : (bodyError ?? (status >= 300 && status <= 399 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`)),
      response: text,
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    if (isTimeout(err) || signal.aborted) {
      return { result: { kind: "error", error: "timeout" }, statusCode: null, latencyMs, error: `no answer within ${request.timeoutMs} ms`, response: null };
    }
    return { result: { kind: "error", error: "network" }, statusCode: null, latencyMs, error: describe(err), response: null };
  }
}
