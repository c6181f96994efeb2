import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { join } from "node:path";
import type { Context, MiddlewareHandler } from "hono";
import { loadOrCreateSecretFile } from "../identity/secretFile.js";
import { apiError, type ApiErrorCode } from "./apiError.js";

export const API_TOKEN_FILE = "api-token";

/** The local API's bearer token: 32 random bytes, base64url, made at first start (mode 0600). */
export function loadOrCreateApiToken(dataDir: string): string {
  return loadOrCreateSecretFile(join(dataDir, API_TOKEN_FILE), () => randomBytes(32).toString("base64url") + "\n").text.trim();
}

/** Constant-time comparison of a presented token with the expected one (hashed to equal length). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token from an Authorization header, or undefined. */
export function bearerFrom(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(header ?? "");
  return match?.[1];
}

/**
 * A refusal of an unauthenticated request: `Connection: close`, so Node closes the connection once
 * the answer is flushed instead of reading (and discarding) the body to keep it alive. A client
 * without credentials cannot make the agent read its body.
 */
export function refuseUnauthenticated(c: Context, status: 401 | 403 | 429, code: ApiErrorCode, message: string): Response {
  c.header("Connection", "close");
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="becomingone-agent"');
  return apiError(c, status, code, message);
}

/**
 * Guards a route with the API token, before anything reads the body: 401 `unauthorized` without
 * one, 403 `forbidden` with a wrong one, both closing the connection.
 * @example app.post("/input", requireBearer(token), handler)
 */
export function requireBearer(expected: string): MiddlewareHandler {
  return async function bearerGuard(c, next) {
    const presented = bearerFrom(c.req.header("authorization"));
    if (presented === undefined) {
      return refuseUnauthenticated(c, 401, "unauthorized", "this route needs `Authorization: Bearer <token>` (the token is in <data dir>/api-token)");
    }
    if (!tokenMatches(presented, expected)) return refuseUnauthenticated(c, 403, "forbidden", "wrong API token");
    await next();
  };
}
