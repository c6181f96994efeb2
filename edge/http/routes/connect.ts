import { Hono } from "hono";
import { verifyAgentJwt } from "../../auth/agent-jwt.js";
import { CONNECT_HEADERS } from "../../fleet/scope.js";
import { bearer, fail, fleetStub, unwrap, type AppEnv } from "../context.js";

/**
 * `GET /v1/connect`: the agent's WebSocket. Authenticated here, before any socket exists; only a
 * verified upgrade is forwarded, with the agent id and jti in internal headers, to the fleet's
 * object, which accepts it with the hibernation API.
 */
export const connectRoutes = new Hono<AppEnv>().get("/connect", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    fail(426, "upgrade_required", "connect with a WebSocket upgrade (Upgrade: websocket)");
  }
  const token = bearer(c);
  if (token === undefined) fail(401, "jwt_missing", "send Authorization: Bearer <JWT signed by the agent's key>");
  const scope = c.get("scope");
  const stub = fleetStub(c);
  const verified = unwrap(await verifyAgentJwt(token, (agentId) => stub.agentCredential(scope, agentId)));
  // A fresh header set: nothing the client sent reaches the object but what we vouch for.
  const forwarded = new Headers();
  forwarded.set("Upgrade", "websocket");
  forwarded.set(CONNECT_HEADERS.agentId, verified.agentId);
  forwarded.set(CONNECT_HEADERS.jti, verified.jti);
  forwarded.set(CONNECT_HEADERS.jtiExpiresAt, String(verified.expiresAt));
  forwarded.set(CONNECT_HEADERS.fleetId, scope.fleetId);
  forwarded.set(CONNECT_HEADERS.host, scope.host);
  return stub.fetch(new Request("https://fleet.internal/connect", { headers: forwarded }));
});
