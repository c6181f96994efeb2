import { Hono } from "hono";
import { enrollmentTokenRequestSchema, fleetConfigPatchSchema } from "../../../shared/protocol/index.js";
import { requireAdmin } from "../admin-auth.js";
import { fleetStub, readJson, unwrap, type AppEnv } from "../context.js";

/**
 * Operator routes (mounted at /v1): enrollment tokens, agents, the fleet. Each route names
 * `requireAdmin` itself, so mounting this app never puts public routes behind the admin token.
 */
export const adminRoutes = new Hono<AppEnv>()
  .post("/enrollment-tokens", requireAdmin, async (c) => {
    const spec = await readJson(c, enrollmentTokenRequestSchema);
    const issued = unwrap(await fleetStub(c).createEnrollmentToken(c.get("scope"), spec));
    return c.json({ ...issued, fleetId: c.get("scope").fleetId }, 201);
  })
  .get("/enrollment-tokens", requireAdmin, async (c) => c.json({ tokens: unwrap(await fleetStub(c).listEnrollmentTokens(c.get("scope"))) }))
  .delete("/enrollment-tokens/:id", requireAdmin, async (c) => c.json(unwrap(await fleetStub(c).revokeEnrollmentToken(c.get("scope"), c.req.param("id")))))
  .get("/agents", requireAdmin, async (c) => c.json({ agents: unwrap(await fleetStub(c).listAgents(c.get("scope"))) }))
  .get("/agents/:id", requireAdmin, async (c) => c.json(unwrap(await fleetStub(c).getAgent(c.get("scope"), c.req.param("id")))))
  .post("/agents/:id/approve", requireAdmin, async (c) => c.json(unwrap(await fleetStub(c).approveAgent(c.get("scope"), c.req.param("id")))))
  // Revoking also closes the agent's sockets at once (inside the object).
  .post("/agents/:id/revoke", requireAdmin, async (c) => c.json(unwrap(await fleetStub(c).revokeAgent(c.get("scope"), c.req.param("id")))))
  .get("/fleet", requireAdmin, async (c) => c.json(unwrap(await fleetStub(c).fleetView(c.get("scope")))))
  .patch("/fleet/config", requireAdmin, async (c) => {
    const patch = await readJson(c, fleetConfigPatchSchema);
    return c.json(unwrap(await fleetStub(c).updateConfig(c.get("scope"), patch)));
  });
