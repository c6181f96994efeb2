import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";
import { DASHBOARD_CSP, IMMUTABLE_CACHE, REVALIDATE_CACHE } from "./dashboard-headers.js";

/**
 * The dashboard's static files (Workers static assets, `[assets]` in wrangler.toml, built into
 * dist/dashboard by scripts/build-dashboard.ts). The Worker runs first for every request; it keeps
 * `/health` and `/v1/*` and hands every other GET/HEAD to the assets binding, adding the headers
 * below. Client routes (`/agents/…`) fall back to index.html (single-page application).
 */

/** Paths the Worker answers itself. */
export function isApiPath(path: string): boolean {
  return path === "/health" || path === "/v1" || path.startsWith("/v1/");
}

/** Adds the dashboard's headers to an assets answer (copied: a fetched response's headers are immutable). */
export function withDashboardHeaders(response: Response, path: string): Response {
  const res = new Response(response.body, response);
  res.headers.set("Content-Security-Policy", DASHBOARD_CSP);
  res.headers.set("X-Frame-Options", "DENY");
  res.headers.set("Referrer-Policy", "no-referrer");
  res.headers.set("X-Content-Type-Options", "nosniff");
  const html = (res.headers.get("Content-Type") ?? "").startsWith("text/html");
  res.headers.set("Cache-Control", path.startsWith("/assets/") && !html && res.status === 200 ? IMMUTABLE_CACHE : REVALIDATE_CACHE);
  return res;
}

/** GET/HEAD outside the API → the assets binding; anything else goes on to the routes (and their JSON 404/405). */
export const serveDashboard: MiddlewareHandler<AppEnv> = async function serveDashboard(c, next) {
  if ((c.req.method !== "GET" && c.req.method !== "HEAD") || isApiPath(c.req.path)) return next();
  return withDashboardHeaders(await c.env.ASSETS.fetch(c.req.raw), c.req.path);
};

/** Request headers only the Worker may set on what it forwards to the Fleet object. */
const INTERNAL_HEADER = /^x-becomingone-/i;

/** The request without any `X-BecomingOne-*` header a client sent (they are the Worker's own to set). */
export function withoutInternalHeaders(request: Request): Request {
  const forged = [...request.headers.keys()].filter((name) => INTERNAL_HEADER.test(name));
  if (forged.length === 0) return request;
  const headers = new Headers(request.headers);
  for (const name of forged) headers.delete(name);
  return new Request(request, { headers });
}
