import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { parseSignerKey } from "../../shared/note/index.js";
import type { Env } from "../env.js";
import { DEFAULT_FLEET_ID } from "../fleet/scope.js";
import { ApiError, errorBody } from "./api-error.js";
import { fail, fleetStub, type AppEnv } from "./context.js";
import { adminRoutes } from "./routes/admin.js";
import { connectRoutes } from "./routes/connect.js";
import { dashboardLiveRoutes } from "./routes/dashboard-live.js";
import { enrollmentRoutes } from "./routes/enrollment.js";
import { logRoutes } from "./routes/log.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { sessionRoutes } from "./routes/session.js";
import { serveDashboard, withoutInternalHeaders } from "./assets.js";
import { requireSameOrigin } from "./session-auth.js";

/** Routes whose success is a WebSocket upgrade (101) relayed from the fleet object. */
const UPGRADE_PATHS = new Set(["/v1/connect", "/v1/dashboard/live"]);

/** Largest JSON request body, bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

const fleetIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);

/** The secrets without which the edge cannot work; a clear 503 rather than a confusing failure later. */
function missingSecrets(env: Env): string[] {
  const missing: string[] = [];
  if (!env.ADMIN_TOKEN) missing.push("ADMIN_TOKEN");
  if (!env.LOG_SIGNING_KEY) missing.push("LOG_SIGNING_KEY");
  return missing;
}

// Parsing a signer key derives its public key; do it once per isolate and key text.
const verifierKeys = new Map<string, string | null>();

/** The verifier key of LOG_SIGNING_KEY, or null when it is not a valid note signer key. */
function verifierKeyOf(signingKey: string): string | null {
  let known = verifierKeys.get(signingKey);
  if (known === undefined) {
    try {
      known = parseSignerKey(signingKey.trim()).verifierKey;
    } catch {
      known = null;
    }
    verifierKeys.set(signingKey, known);
  }
  return known;
}

/**
 * The edge's HTTP surface (docs/api.md): shared middleware, then the route groups mounted at /v1.
 * Every response that is not a success is `{"error":{"code","message"}}`; the fleet is
 * `?fleet=<id>` (default "default").
 *
 * @example
 * ```ts
 * export default { fetch: createApp().fetch } satisfies ExportedHandler<Env>;
 * ```
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // DENY rather than Hono's SAMEORIGIN: nothing the edge serves is meant to be framed (the
  // dashboard's CSP says frame-ancestors 'none' too).
  const headers = secureHeaders({ xFrameOptions: "DENY" });

  // First: internal headers are the Worker's to set on what it forwards to the Fleet object, never a client's.
  app.use("*", async (c, next) => {
    c.req.raw = withoutInternalHeaders(c.req.raw);
    await next();
  });

  app.use(
    "*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json(errorBody({ status: 405, code: "method_not_allowed", message: `${c.req.method} is not allowed here; use ${methods.join(", ")}` }), 405, {
          Allow: methods.join(", "),
        }),
    }),
  );
  // The 101 response of a WebSocket upgrade comes from the object and must not be touched (its
  // headers are immutable); the route's refusals (401, 426…) get the same headers as every answer.
  app.use("*", async (c, next) => {
    if (!UPGRADE_PATHS.has(c.req.path)) return headers(c, next);
    await next();
    if (c.res.status === 101) return;
    // A refusal relayed from the object has immutable headers: answer with a copy.
    c.res = new Response(c.res.body, c.res);
    await headers(c, async () => {});
  });
  // The dashboard's files: every GET/HEAD outside /health and /v1 (assets.ts). Before the secrets
  // check, so a misconfigured edge still shows its dashboard, whose API calls then say what is missing.
  app.use("*", serveDashboard);
  app.use("*", async (c, next) => {
    const missing = missingSecrets(c.env);
    if (missing.length > 0) {
      fail(503, "secrets_missing", `the edge is not configured: set ${missing.join(" and ")} (wrangler secret put, .dev.vars, or wrangler dev --var)`, {
        missing: missing.join(","),
      });
    }
    if (verifierKeyOf(c.env.LOG_SIGNING_KEY!) === null) {
      fail(503, "log_signing_key_invalid", "LOG_SIGNING_KEY is not a note signer key (PRIVATE+KEY+<name>+<hash>+<base64>); generate one with generateSignerKey from shared/note");
    }
    const parsed = fleetIdSchema.safeParse(c.req.query("fleet") ?? DEFAULT_FLEET_ID);
    if (!parsed.success) fail(400, "bad_fleet", "fleet must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit");
    c.set("scope", { fleetId: parsed.data, host: new URL(c.req.url).host });
    await next();
  });
  app.use("/v1/*", requireSameOrigin);
  app.use("/v1/*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    return bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => fail(413, "body_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`, { limit: MAX_BODY_BYTES }),
    })(c, next);
  });

  app.get("/health", (c) => c.json({ ok: true }));
  app.route("/v1", sessionRoutes);
  app.route("/v1", adminRoutes);
  app.route("/v1", enrollmentRoutes);
  app.route("/v1", connectRoutes);
  app.route("/v1", dashboardLiveRoutes);
  app.route("/v1", logRoutes(verifierKeyOf));
  app.route("/v1", webhookRoutes((c) => fleetStub(c)));

  app.notFound((c) => c.json(errorBody({ status: 404, code: "not_found", message: `no route ${c.req.method} ${c.req.path}` }), 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err), err.status as ContentfulStatusCode);
    if (err instanceof HTTPException) {
      return c.json(errorBody({ status: err.status, code: "http_error", message: err.message || "request refused" }), err.status);
    }
    console.error("edge: unhandled error", err);
    return c.json(errorBody({ status: 500, code: "internal_error", message: "internal error; the request was not applied" }), 500);
  });
  return app;
}
