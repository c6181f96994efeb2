import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ResetOutcome } from "../runtime/tickPipeline.js";
import type { QueuedToken } from "../runtime/tokenQueue.js";
import { apiError } from "./apiError.js";
import { bearerFrom, refuseUnauthenticated, requireBearer, tokenMatches } from "./bearerToken.js";
import { INPUT_LIMITS, inputSchema } from "./inputSchema.js";
import { SignedRequestVerifier } from "./resetSignature.js";
import { securityHeaders } from "./securityHeaders.js";

export type InputOutcome =
  | {
      readonly status: "processed";
      readonly tokens: number;
      readonly coherence: number;
      readonly collapsed: boolean;
      readonly dissipated: number;
      /** Reset epoch the batch ran in (all its tokens run in one epoch). */
      readonly epoch: number;
      readonly firstTick: number;
      readonly lastTick: number;
    }
  | { readonly status: "queued"; readonly tokens: number; readonly queueDepth: number };

export type SubmitResult =
  | { readonly accepted: true; readonly outcome: Promise<InputOutcome> }
  | { readonly accepted: false; readonly retryAfterSeconds: number; readonly depth: number; readonly capacity: number };

/** What the API needs from the running agent. */
export interface AgentApiBackend {
  info(): Record<string, unknown>;
  health(): Record<string, unknown>;
  coherence(): Record<string, unknown>;
  metricsText(): string;
  /** Queues a batch atomically (or refuses it); the outcome settles when the batch ran or after waitMs. */
  submit(tokens: readonly QueuedToken[], waitMs: number): SubmitResult;
  reset(): Promise<ResetOutcome>;
  /** False once shutdown has begun: mutating routes answer 503. */
  accepting(): boolean;
}

export interface ApiAppOptions {
  readonly backend: AgentApiBackend;
  readonly apiToken: string;
  readonly signatures: SignedRequestVerifier;
  /** How long POST /input waits for its tokens to run before answering 202; default 5 s. */
  readonly inputWaitMs?: number;
  /** Where an internal error is reported (the agent's log); the client only sees `internal_error`. */
  readonly onInternalError?: (err: Error, request: { readonly method: string; readonly path: string }) => void;
}

/** What a request carries between the app's middleware: who authorized a reset. */
export type ApiEnv = { Variables: { authorizedBy: string } };

const JSON_TYPE = /^application\/json(\s*;\s*charset=utf-8)?\s*$/i;

/**
 * The local API (the reference's api.py, hardened): JSON only, explicit size limits, bearer token on
 * mutating routes, Ed25519-signed requests as an alternative for /reset, stable error codes.
 * @example serve({ fetch: createApiApp({ backend, apiToken, signatures }).fetch, port: 8420 })
 */
export function createApiApp(options: ApiAppOptions): Hono<ApiEnv> {
  const { backend, apiToken, signatures } = options;
  const waitMs = options.inputWaitMs ?? 5000;
  const app = new Hono<ApiEnv>();

  app.use("*", securityHeaders());
  app.notFound((c) => apiError(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    options.onInternalError?.(err, { method: c.req.method, path: c.req.path });
    return apiError(c, 500, "internal_error", "internal error (see the agent's log)");
  });

  app.get("/", (c) => c.json(backend.info()));
  app.get("/health", (c) => c.json(backend.health()));
  app.get("/coherence", (c) => c.json(backend.coherence()));
  app.get("/metrics", (c) => {
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(backend.metricsText());
  });

  const limitBody = bodyLimit({
    maxSize: INPUT_LIMITS.bodyBytes,
    onError: (c) => apiError(c, 413, "payload_too_large", `request bodies are limited to ${INPUT_LIMITS.bodyBytes} bytes`, { limit: INPUT_LIMITS.bodyBytes }),
  });

  app.post("/input", requireBearer(apiToken), limitBody, async (c) => {
    if (!backend.accepting()) return apiError(c, 503, "shutting_down", "the agent is shutting down");
    if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) {
      return apiError(c, 415, "unsupported_media_type", "POST /input takes Content-Type: application/json");
    }
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return apiError(c, 400, "bad_json", "the body is not valid JSON");
    }
    const parsed = inputSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return apiError(c, 400, "bad_input", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
    }
    const body = parsed.data;
    let tokens: QueuedToken[];
    if (body.type === "phase") tokens = [{ type: "phase", phases: body.phases, source: "api" }];
    else {
      const texts = body.type === "tokens" ? body.tokens : body.content.split(/\s+/).filter((t) => t.length > 0);
      if (texts.length === 0) return apiError(c, 400, "bad_input", "content: no tokens (only whitespace)");
      if (texts.length > INPUT_LIMITS.tokensPerRequest) {
        return apiError(c, 400, "bad_input", `content: ${texts.length} tokens, at most ${INPUT_LIMITS.tokensPerRequest} per request`, {
          tokens: texts.length,
          limit: INPUT_LIMITS.tokensPerRequest,
        });
      }
      const tooLong = texts.find((t) => t.length > INPUT_LIMITS.tokenChars);
      if (tooLong) return apiError(c, 400, "bad_input", `content: a token of ${tooLong.length} chars, at most ${INPUT_LIMITS.tokenChars}`);
      tokens = texts.map((text) => ({ type: "text", text, source: "api" }));
    }
    const submitted = backend.submit(tokens, waitMs);
    if (!submitted.accepted) {
      c.header("Retry-After", String(submitted.retryAfterSeconds));
      return apiError(c, 429, "queue_full", `the token queue holds ${submitted.depth} of ${submitted.capacity}; retry after ${submitted.retryAfterSeconds} s`, {
        depth: submitted.depth,
        capacity: submitted.capacity,
        retryAfterSeconds: submitted.retryAfterSeconds,
      });
    }
    const outcome = await submitted.outcome;
    return c.json({ ...outcome, timestamp: new Date().toISOString() }, outcome.status === "processed" ? 200 : 202);
  });

  // Authentication first, then the size limit: no body is read for an unauthenticated client.
  app.post(
    "/reset",
    async function resetAuth(c, next) {
      const headers = {
        key: c.req.header("x-bo-key"),
        timestamp: c.req.header("x-bo-timestamp"),
        nonce: c.req.header("x-bo-nonce"),
        signature: c.req.header("x-bo-signature"),
      };
      const bearer = bearerFrom(c.req.header("authorization"));
      if (bearer !== undefined && !SignedRequestVerifier.present(headers)) {
        if (!tokenMatches(bearer, apiToken)) return refuseUnauthenticated(c, 403, "forbidden", "wrong API token");
        c.set("authorizedBy", "token");
      } else if (SignedRequestVerifier.present(headers)) {
        const verdict = await signatures.verify("POST", c.req.path, headers);
        if (!verdict.ok) return refuseUnauthenticated(c, verdict.status, verdict.code, verdict.message);
        c.set("authorizedBy", `key:${verdict.key}`);
      } else {
        return refuseUnauthenticated(c, 401, "unauthorized", "POST /reset needs the API token or an Ed25519-signed request (docs/agent.md)");
      }
      await next();
    },
    limitBody,
    async (c) => {
      const authorizedBy = c.get("authorizedBy");
      if (!backend.accepting()) return apiError(c, 503, "shutting_down", "the agent is shutting down");
      const outcome = await backend.reset();
      return c.json({ status: "reset", ...outcome, authorizedBy, timestamp: new Date().toISOString() });
    },
  );

  // Known paths with the wrong method: 405 rather than 404.
  for (const path of ["/", "/health", "/coherence", "/metrics", "/input", "/reset"]) {
    app.all(path, (c) => apiError(c, 405, "method_not_allowed", `${c.req.method} is not allowed on ${path}`));
  }
  return app;
}
