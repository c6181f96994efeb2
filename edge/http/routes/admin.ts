import { Hono } from "hono";
import type { CreatedToken } from "../../../shared/api/index.js";
import { enrollmentTokenRequestSchema, fleetConfigPatchSchema } from "../../../shared/protocol/index.js";
import { requireOperator } from "../session-auth.js";
import { AGENT_RECORDS_DEFAULT, AGENT_RECORDS_MAX } from "../../fleet/agent-records.js";
import { fail, fleetStub, queryInt, readJson, unwrap, type AppEnv } from "../context.js";

/**
 * Operator routes (mounted at /v1): enrollment tokens, agents, the fleet. Each route names
 * `requireOperator` itself, so mounting this app never puts public routes behind the admin token.
 */
export const adminRoutes = new Hono<AppEnv>()
  .post("/enrollment-tokens", requireOperator, async (c) => {
    const spec = await readJson(c, enrollmentTokenRequestSchema);
    const issued = unwrap(await fleetStub(c).createEnrollmentToken(c.get("scope"), spec));
    return c.json({ ...issued, fleetId: c.get("scope").fleetId } satisfies CreatedToken, 201);
  })
  .get("/enrollment-tokens", requireOperator, async (c) => c.json({ tokens: unwrap(await fleetStub(c).listEnrollmentTokens(c.get("scope"))) }))
  .delete("/enrollment-tokens/:id", requireOperator, async (c) => c.json(unwrap(await fleetStub(c).revokeEnrollmentToken(c.get("scope"), c.req.param("id")))))
  .get("/agents", requireOperator, async (c) => c.json({ agents: unwrap(await fleetStub(c).listAgents(c.get("scope"))) }))
  .get("/agents/:id", requireOperator, async (c) => c.json(unwrap(await fleetStub(c).getAgent(c.get("scope"), c.req.param("id")))))
  .get("/agents/:id/records", requireOperator, async (c) => {
    const limit = queryInt(c, "limit") ?? AGENT_RECORDS_DEFAULT;
    if (limit < 1 || limit > AGENT_RECORDS_MAX) fail(400, "bad_query", `limit must be 1 to ${AGENT_RECORDS_MAX}`, { limit });
    const before = queryInt(c, "before") ?? null;
    return c.json(unwrap(await fleetStub(c).agentRecords(c.get("scope"), c.req.param("id"), before, limit)));
  })
  .post("/agents/:id/approve", requireOperator, async (c) => c.json(unwrap(await fleetStub(c).approveAgent(c.get("scope"), c.req.param("id")))))
  // Revoking also closes the agent's sockets at once (inside the object).
  .post("/agents/:id/revoke", requireOperator, async (c) => c.json(unwrap(await fleetStub(c).revokeAgent(c.get("scope"), c.req.param("id")))))
  .get("/fleet", requireOperator, async (c) => c.json(unwrap(await fleetStub(c).fleetView(c.get("scope")))))
  .patch("/fleet/config", requireOperator, async (c) => {
    const patch = await readJson(c, fleetConfigPatchSchema);
    return c.json(unwrap(await fleetStub(c).updateConfig(c.get("scope"), patch)));
  });
