import { Hono } from "hono";
import { CONNECT_HEADERS } from "../../fleet/scope.js";
import { VIEWER_HEADERS } from "../../fleet/viewer-request.js";
import { fail, fleetStub, type AppEnv } from "../context.js";
import { readSession } from "../session-auth.js";

/**
 * `GET /v1/dashboard/live`: the dashboard's live channel (docs/api.md). A WebSocket upgrade from a
 * page of this very origin (the Origin header; a cross-site page cannot open it with the operator's
 * cookie) with a live session, forwarded to the fleet's object with the session in internal headers.
 */
export const dashboardLiveRoutes = new Hono<AppEnv>().get("/dashboard/live", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    fail(426, "upgrade_required", "open the live channel with a WebSocket upgrade (Upgrade: websocket)");
  }
  const origin = c.req.header("Origin");
  if (origin !== new URL(c.req.url).origin) fail(403, "origin_refused", "the live channel opens only from a page of this origin");
  const session = await readSession(c);
  if (session === null) fail(401, "session_required", "sign in first: the live channel needs a live session cookie");
  const scope = c.get("scope");
  // A fresh header set: nothing the client sent reaches the object but what we vouch for.
  const forwarded = new Headers();
  forwarded.set("Upgrade", "websocket");
  forwarded.set(VIEWER_HEADERS.sessionHash, session.idHash);
  forwarded.set(VIEWER_HEADERS.expiresAt, String(session.expiresAt));
  forwarded.set(CONNECT_HEADERS.fleetId, scope.fleetId);
  forwarded.set(CONNECT_HEADERS.host, scope.host);
  return fleetStub(c).fetch(new Request("https://fleet.internal/viewer", { headers: forwarded }));
});
