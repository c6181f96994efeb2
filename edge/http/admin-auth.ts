import { sha256 } from "@noble/hashes/sha2.js";
import { fail, type AppContext } from "./context.js";

/** SHA-256 both sides, then compare every byte: the time taken does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  const x = sha256(encoder.encode(a));
  const y = sha256(encoder.encode(b));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * The bearer half of operator auth (session-auth.ts `requireOperator` is the middleware): the token
 * compared with ADMIN_TOKEN in constant time; 401 `admin_auth_invalid` when it differs.
 */
export function checkAdminBearer(c: AppContext, token: string): void {
  if (!constantTimeEqual(token, c.env.ADMIN_TOKEN ?? "")) {
    c.header("WWW-Authenticate", 'Bearer realm="becomingone-admin", error="invalid_token"');
    fail(401, "admin_auth_invalid", "the admin token is wrong");
  }
}
