import type { MiddlewareHandler } from "hono";

/**
 * Headers on every answer of the local API. It serves JSON and text to scripts, never pages, so a
 * browser gets nothing it may render, frame, cache, sniff or embed from another origin.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Puts SECURITY_HEADERS on every response of the app, refusals and errors included. */
export function securityHeaders(): MiddlewareHandler {
  return async function addSecurityHeaders(c, next) {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}
