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

export type EdgeRequestInit = Omit<RequestInit, "signal"> & { timeoutMs?: number; signal?: AbortSignal | undefined };

async function request(url: string, init: EdgeRequestInit): Promise<Response> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, signal, ...rest } = init;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, { ...rest, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new EdgeHttpError(0, "edge_unreachable", `cannot reach ${new URL(url).origin}: ${cause ?? (err as Error).message}`);
  }
}

async function refusal(url: string, res: Response): Promise<EdgeHttpError> {
  const text = await res.text().catch(() => "");
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
  const res = await request(url, { ...init, headers: { Accept: "application/json", ...(init.headers as Record<string, string> | undefined) } });
  if (!res.ok) throw await refusal(url, res);
  let json: unknown;
  try {
    json = await res.json();
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
  const res = await request(url, init);
  if (!res.ok) throw await refusal(url, res);
  const text = await res.text();
  if (text.length > maxBytes) throw new EdgeHttpError(res.status, "bad_response", `${new URL(url).pathname} answered ${text.length} bytes, more than ${maxBytes}`);
  return text;
}
