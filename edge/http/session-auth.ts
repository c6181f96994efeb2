import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { sessionIdHash, SESSION_LIFETIME_MS, type LiveSession } from "../fleet/session-store.js";
import { checkAdminBearer } from "./admin-auth.js";
import { bearer, fail, fleetStub, type AppContext, type AppEnv } from "./context.js";

/**
 * Operator authentication for the dashboard and the CLI alike (docs/api.md, "Sessions"): a bearer
 * ADMIN_TOKEN, or a session cookie the edge issued in exchange for it. The cookie is HttpOnly (no
 * script reads it, so an injected script cannot carry it off), SameSite=Strict, and every
 * state-changing request must also come from the edge's own Origin (`requireSameOrigin`).
 */

export const SESSION_COOKIE = "bo_session";
/** Cookie lifetime, seconds: the session's absolute lifetime. */
export const SESSION_COOKIE_MAX_AGE_S = SESSION_LIFETIME_MS / 1000;
/** 32 random bytes, base64url without padding. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Hosts where plain http is local development: localhost, 127.0.0.0/8, [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A fresh session id: 32 random bytes, base64url. */
export function newSessionId(): string {
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function cookieFlags(c: AppContext, maxAge: number) {
  return { httpOnly: true, sameSite: "Strict", path: "/", maxAge, secure: !isLoopbackHost(new URL(c.req.url).hostname) } as const;
}

export function setSessionCookie(c: AppContext, id: string): void {
  setCookie(c, SESSION_COOKIE, id, cookieFlags(c, SESSION_COOKIE_MAX_AGE_S));
}

/** Tells the browser to drop the cookie (Max-Age=0). */
export function clearSessionCookie(c: AppContext): void {
  setCookie(c, SESSION_COOKIE, "", cookieFlags(c, 0));
}

/** The raw session cookie if the request carries one. */
export function sessionCookie(c: AppContext): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The stored hash of the request's well-formed session cookie, or null. */
export function sessionCookieHash(c: AppContext): string | null {
  const raw = sessionCookie(c);
  return raw !== undefined && SESSION_ID.test(raw) ? sessionIdHash(raw) : null;
}

const checked = new WeakMap<AppContext, Promise<LiveSession | null>>();

/** The request's live session (cookie → the fleet object's check), or null; asked once per request. */
export function readSession(c: AppContext): Promise<LiveSession | null> {
  let session = checked.get(c);
  if (session === undefined) {
    const idHash = sessionCookieHash(c);
    session = idHash === null ? Promise.resolve(null) : fleetStub(c).checkSession(c.get("scope"), idHash);
    checked.set(c, session);
  }
  return session;
}

/**
 * Operator routes: `Authorization: Bearer <ADMIN_TOKEN>` (CLI, curl; wins when both are sent) or a
 * live session cookie. A cookie that is unknown, expired or revoked is 401 `session_required` and
 * is cleared; no credential at all is 401 `admin_auth_required`.
 *
 * @example
 * ```ts
 * app.get("/v1/agents", requireOperator, (c) => …);
 * ```
 */
export const requireOperator: MiddlewareHandler<AppEnv> = async function requireOperator(c, next) {
  const token = bearer(c);
  if (token !== undefined) {
    checkAdminBearer(c, token);
    return next();
  }
  if (sessionCookie(c) !== undefined) {
    if ((await readSession(c)) === null) {
      clearSessionCookie(c);
      fail(401, "session_required", "the dashboard session has ended (signed out, expired or unknown); sign in again");
    }
    return next();
  }
  c.header("WWW-Authenticate", 'Bearer realm="becomingone-admin"');
  fail(401, "admin_auth_required", "this route needs Authorization: Bearer <ADMIN_TOKEN> or a dashboard session");
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request's `Origin` header is present and is the request URL's own origin (the live channel's upgrade check). */
export function isSameOrigin(c: AppContext): boolean {
  return c.req.header("Origin") === new URL(c.req.url).origin;
}

/**
 * CSRF: a state-changing request (not GET/HEAD/OPTIONS) whose `Origin` is not the edge's own is 403
 * `origin_refused`, whatever its credentials; one that would authenticate by cookie (no bearer) must
 * carry `Origin` at all. SameSite=Strict already keeps the cookie off cross-site requests; this
 * also covers same-site sibling origins and browsers that ignore SameSite.
 */
export const requireSameOrigin: MiddlewareHandler<AppEnv> = async function requireSameOrigin(c, next) {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const origin = c.req.header("Origin");
  const own = new URL(c.req.url).origin;
  if (origin !== undefined && origin !== own) {
    fail(403, "origin_refused", `requests that change state must come from ${own}`, { origin: origin.slice(0, 128) });
  }
  if (origin === undefined && bearer(c) === undefined && sessionCookie(c) !== undefined) {
    fail(403, "origin_refused", "a request authenticated by the session cookie must carry an Origin header");
  }
  return next();
};
