import { Hono } from "hono";
import { endpointCreateSchema, endpointPatchSchema, replaySinceSchema } from "../../../shared/webhooks/index.js";
import { ENDPOINT_ID, MESSAGE_ID } from "../../webhooks/ids.js";
import type { WebhookRpc } from "../../webhooks/webhook-rpc.js";
import { requireOperator } from "../session-auth.js";
import { fail, queryInt, readJson, unwrap, type AppContext, type AppEnv } from "../context.js";

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 100;

/** The endpoint id of the path; an id that cannot exist is a 404 without asking the object. */
function endpointId(c: AppContext): string {
  const id = c.req.param("id") ?? "";
  if (!ENDPOINT_ID.test(id)) fail(404, "webhook_endpoint_not_found", `no webhook endpoint ${id.slice(0, 64)}`);
  return id;
}

function paging(c: AppContext): { before: number | null; limit: number } {
  const limit = queryInt(c, "limit") ?? PAGE_DEFAULT;
  if (limit < 1 || limit > PAGE_MAX) fail(400, "bad_query", `limit must be 1 to ${PAGE_MAX}`, { limit });
  return { before: queryInt(c, "before") ?? null, limit };
}

/**
 * Webhook administration (mounted at /v1, docs/webhooks.md): endpoints, secret rotation, the
 * delivery log, messages, replay and test events. Every route is admin-only.
 *
 * @param fleet the Fleet object's webhook entry points for the request's fleet
 */
export function webhookRoutes(fleet: (c: AppContext) => WebhookRpc): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post("/webhooks/endpoints", requireOperator, async (c) => {
      const input = await readJson(c, endpointCreateSchema);
      return c.json(unwrap(await fleet(c).createWebhookEndpoint(c.get("scope"), input)), 201);
    })
    .get("/webhooks/endpoints", requireOperator, async (c) => c.json({ endpoints: unwrap(await fleet(c).listWebhookEndpoints(c.get("scope"))) }))
    .get("/webhooks/endpoints/:id", requireOperator, async (c) => c.json(unwrap(await fleet(c).getWebhookEndpoint(c.get("scope"), endpointId(c)))))
    .patch("/webhooks/endpoints/:id", requireOperator, async (c) => {
      const id = endpointId(c);
      const patch = await readJson(c, endpointPatchSchema);
      return c.json(unwrap(await fleet(c).updateWebhookEndpoint(c.get("scope"), id, patch)));
    })
    .delete("/webhooks/endpoints/:id", requireOperator, async (c) => c.json(unwrap(await fleet(c).deleteWebhookEndpoint(c.get("scope"), endpointId(c)))))
    .post("/webhooks/endpoints/:id/rotate-secret", requireOperator, async (c) => c.json(unwrap(await fleet(c).rotateWebhookSecret(c.get("scope"), endpointId(c)))))
    .get("/webhooks/endpoints/:id/deliveries", requireOperator, async (c) => {
      const id = endpointId(c);
      const { before, limit } = paging(c);
      return c.json(unwrap(await fleet(c).listWebhookAttempts(c.get("scope"), id, before, limit)));
    })
    .get("/webhooks/endpoints/:id/messages", requireOperator, async (c) => {
      const id = endpointId(c);
      const { before, limit } = paging(c);
      return c.json(unwrap(await fleet(c).listWebhookMessages(c.get("scope"), id, before, limit)));
    })
    .post("/webhooks/endpoints/:id/messages/:msgId/replay", requireOperator, async (c) => {
      const id = endpointId(c);
      const msgId = c.req.param("msgId");
      if (!MESSAGE_ID.test(msgId)) fail(404, "webhook_message_not_found", `endpoint ${id} has no message ${msgId.slice(0, 64)}`);
      return c.json(unwrap(await fleet(c).replayWebhookMessage(c.get("scope"), id, msgId)), 202);
    })
    .post("/webhooks/endpoints/:id/replay", requireOperator, async (c) => {
      const id = endpointId(c);
      const { since } = await readJson(c, replaySinceSchema);
      return c.json(unwrap(await fleet(c).replayWebhookSince(c.get("scope"), id, Date.parse(since))), 202);
    })
    .post("/webhooks/endpoints/:id/test", requireOperator, async (c) => c.json(unwrap(await fleet(c).sendWebhookTest(c.get("scope"), endpointId(c))), 202));
}
