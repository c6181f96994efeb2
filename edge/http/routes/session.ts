import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_FLEET_ID } from "../../fleet/scope.js";
import { sessionIdHash } from "../../fleet/session-store.js";
import { constantTimeEqual } from "../admin-auth.js";
import { ApiError } from "../api-error.js";
import { fail, fleetStub, readJson, unwrap, type AppContext, type AppEnv } from "../context.js";
import { clearSessionCookie, isLoopbackHost, newSessionId, readSession, requireOperator, sessionCookie, sessionCookieHash, setSessionCookie } from "../session-auth.js";

const signInSchema = z.object({ token: z.string().min(1).max(512) }).strict();

/** The default fleet's object: where failed sign-ins are counted. */
function defaultFleetStub(c: AppContext) {
  return c.env.FLEET.get(c.env.FLEET.idFromName(DEFAULT_FLEET_ID));
}

/**
 * Dashboard sign-in and sign-out (mounted at /v1; docs/api.md, "Sessions"). The admin token is sent
 * once, in a POST body, and exchanged for an HttpOnly cookie; it never sits in a URL or in storage.
 */
export const sessionRoutes = new Hono<AppEnv>()
  .post("/session", async (c) => {
    const url = new URL(c.req.url);
    if (url.protocol !== "https:" && !isLoopbackHost(url.hostname)) {
      fail(403, "https_required", "sign in over https: the admin token must not travel in clear");
    }
    const { token } = await readJson(c, signInSchema);
    const id = newSessionId();
    // Set by Cloudflare (and by wrangler dev) from the TCP peer; a client cannot choose it.
    const client = c.req.header("CF-Connecting-IP") ?? "unknown";
    // Guesses are counted in the default fleet's object, for every fleet at once (the token is the deployment's).
    const judged = await defaultFleetStub(c).judgeSignIn({ fleetId: DEFAULT_FLEET_ID, host: c.get("scope").host }, { tokenOk: constantTimeEqual(token, c.env.ADMIN_TOKEN ?? ""), client });
    if (!judged.ok) {
      const retry = judged.error.details?.retryAfterSeconds;
      if (typeof retry === "number") c.header("Retry-After", String(retry));
      throw ApiError.from(judged.error);
    }
    const opened = unwrap(await fleetStub(c).openSession(c.get("scope"), sessionIdHash(id)));
    // Signing in again from a browser that holds a session replaces it rather than leaving it live.
    const previous = sessionCookieHash(c);
    if (previous !== null) await fleetStub(c).endSession(c.get("scope"), previous);
    setSessionCookie(c, id);
    return c.json({ expiresAt: new Date(opened.expiresAt).toISOString() });
  })
  .get("/session", async (c) => {
    const session = await readSession(c);
    if (session === null) {
      if (sessionCookie(c) !== undefined) clearSessionCookie(c);
      fail(401, "session_required", "no live dashboard session; sign in with POST /v1/session");
    }
    return c.json({ signedIn: true, expiresAt: new Date(session.expiresAt).toISOString() });
  })
  // Idempotent: whatever the cookie, the answer clears it; a live session is revoked server-side.
  .delete("/session", async (c) => {
    const idHash = sessionCookieHash(c);
    if (idHash !== null) await fleetStub(c).endSession(c.get("scope"), idHash);
    clearSessionCookie(c);
    return c.json({ signedOut: true });
  })
  .delete("/sessions", requireOperator, async (c) => {
    const revoked = unwrap(await fleetStub(c).endAllSessions(c.get("scope")));
    if (sessionCookie(c) !== undefined) clearSessionCookie(c);
    return c.json(revoked);
  });
