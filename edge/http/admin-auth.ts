import { sha256 } from "@noble/hashes/sha2.js";
import type { MiddlewareHandler } from "hono";
import { bearer, fail, type AppEnv } from "./context.js";

/** SHA-256 both sides, then compare every byte: the time taken does not depend on where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  const x = sha256(encoder.encode(a));
  const y = sha256(encoder.encode(b));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * Operator routes: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 *
 * @example
 * ```ts
 * app.get("/v1/agents", requireAdmin, (c) => …);
 * ```
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async function requireAdmin(c, next) {
  const token = bearer(c);
  if (token === undefined) {
    c.header("WWW-Authenticate", 'Bearer realm="becomingone-admin"');
    fail(401, "admin_auth_required", "this route needs Authorization: Bearer <ADMIN_TOKEN>");
  }
  if (!constantTimeEqual(token, c.env.ADMIN_TOKEN ?? "")) {
    c.header("WWW-Authenticate", 'Bearer realm="becomingone-admin", error="invalid_token"');
    fail(401, "admin_auth_invalid", "the admin token is wrong");
  }
  await next();
};
