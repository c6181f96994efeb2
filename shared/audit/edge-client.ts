/**
 * The audit's only I/O: GET requests to the edge through an injected `fetch` (Node, workerd and the
 * browser all have one), each bounded in time and bytes. Every answer is untrusted: callers parse it
 * (fetch-documents.ts) and check it against signed roots, never the other way round.
 */
import { concatBytes } from "../encoding/bytes.js";
import { decodeUtf8 } from "../encoding/utf8.js";
import { AuditFailure } from "./audit-steps.js";

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

export const EDGE_LIMITS = {
  /** Largest answer read (a page of 32 entries is under 3 MB; a proof a few KB). */
  maxResponseBytes: 4 << 20,
  /** Default time for one request, ms. */
  timeoutMs: 15_000,
  /** Most requests one audit makes (keys are bounded separately). */
  maxRequests: 256,
} as const;

export interface EdgeClientOptions {
  readonly fetch: FetchFunction;
  /** The edge's base URL, e.g. https://edge.example (a path prefix is kept). */
  readonly edge: string;
  /** `?fleet=` for a non-default fleet. */
  readonly fleet?: string;
  readonly timeoutMs?: number;
}

type Query = Readonly<Record<string, string | number | undefined>>;

export class EdgeClient {
  readonly #options: EdgeClientOptions;
  #requests = 0;

  constructor(options: EdgeClientOptions) {
    this.#options = options;
  }

  /** The URL of a route, with `fleet` and the given query parameters. */
  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    if (this.#options.fleet !== undefined) params.set("fleet", this.#options.fleet);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const text = params.toString();
    return `${this.#options.edge.replace(/\/+$/, "")}${path}${text ? `?${text}` : ""}`;
  }

  /** GET a text answer (a note). `undefined` for a 404 when `allowNotFound`. */
  async text(path: string, query: Query = {}, allowNotFound = false): Promise<string | undefined> {
    const res = await this.#get(path, query, allowNotFound);
    return res === undefined ? undefined : decodeText(res.body, path);
  }

  /** GET a JSON answer, parsed but not yet checked. */
  async json(path: string, query: Query = {}): Promise<unknown> {
    const res = await this.#get(path, query, false);
    const text = decodeText(res!.body, path);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AuditFailure(`GET ${path} answered text that is not JSON`);
    }
  }

  async #get(path: string, query: Query, allowNotFound: boolean): Promise<{ body: Uint8Array } | undefined> {
    if (++this.#requests > EDGE_LIMITS.maxRequests) throw new AuditFailure(`more than ${EDGE_LIMITS.maxRequests} requests in one audit`);
    const url = this.url(path, query);
    const timeoutMs = this.#options.timeoutMs ?? EDGE_LIMITS.timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await this.#options.fetch(url, { method: "GET", signal: controller.signal, redirect: "manual" });
      } catch (err) {
        throw new AuditFailure(`GET ${path} failed: ${controller.signal.aborted ? `no answer in ${timeoutMs} ms` : errorText(err)}`);
      }
      const body = await readBounded(res, path, controller);
      if (res.status === 404 && allowNotFound) return undefined;
      if (res.status !== 200) throw new AuditFailure(`GET ${path} answered ${res.status}${errorCode(body)}`, { status: res.status });
      return { body };
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readBounded(res: Response, path: string, controller: AbortController): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > EDGE_LIMITS.maxResponseBytes) {
    controller.abort();
    throw new AuditFailure(`GET ${path}: answer of ${declared} bytes is over ${EDGE_LIMITS.maxResponseBytes}`);
  }
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > EDGE_LIMITS.maxResponseBytes) {
        controller.abort();
        await reader.cancel().catch(() => undefined);
        throw new AuditFailure(`GET ${path}: answer is over ${EDGE_LIMITS.maxResponseBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof AuditFailure) throw err;
    throw new AuditFailure(`GET ${path}: reading the answer failed: ${controller.signal.aborted ? "timed out" : errorText(err)}`);
  }
  return concatBytes(...chunks);
}

function decodeText(body: Uint8Array, path: string): string {
  const text = decodeUtf8(body);
  if (text === undefined) throw new AuditFailure(`GET ${path} answered bytes that are not UTF-8`);
  return text;
}

// ": <code>: <message>" from a JSON error answer, shortened; nothing when the body is not one.
function errorCode(body: Uint8Array): string {
  try {
    const parsed = JSON.parse(decodeUtf8(body) ?? "") as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    const message = parsed.error?.message;
    if (typeof code !== "string") return "";
    return ` ${code.slice(0, 64)}${typeof message === "string" ? `: ${message.slice(0, 200)}` : ""}`;
  } catch {
    return "";
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
