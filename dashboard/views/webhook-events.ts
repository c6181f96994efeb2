/**
 * The webhook event types an endpoint can subscribe to (docs/webhooks.md's catalog, without
 * `webhook.test`, which every endpoint gets on request). A copy, not an import: the catalog lives
 * in shared/webhooks/events.ts next to its zod schemas, which the browser must not load;
 * test/dashboard/webhook-events.test.ts keeps the two lists equal.
 */
export const SUBSCRIBABLE_EVENT_TYPES = [
  "agent.enrolled",
  "agent.approved",
  "agent.revoked",
  "agent.online",
  "agent.offline",
  "agent.quarantined",
  "agent.released",
  "sync.collapse",
  "mesh.locked",
  "mesh.unlocked",
  "checkpoint.published",
  "log.inconsistency",
  "agent.log_inconsistent",
] as const;

export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];
