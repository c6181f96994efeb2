import type { Outcome } from "../http/api-error.js";
import type { FleetScope } from "../fleet/scope.js";
import type { AttemptView, EndpointCreate, EndpointPatch, EndpointView, EndpointWithSecret, MessageView, Page } from "../../shared/webhooks/index.js";

/**
 * The Fleet object's webhook entry points as the admin routes call them over RPC. Failures travel
 * as values (`Outcome`), like every other Fleet method.
 */
export interface WebhookRpc {
  createWebhookEndpoint(scope: FleetScope, input: EndpointCreate): Promise<Outcome<EndpointWithSecret>>;
  listWebhookEndpoints(scope: FleetScope): Promise<Outcome<EndpointView[]>>;
  getWebhookEndpoint(scope: FleetScope, id: string): Promise<Outcome<EndpointView>>;
  updateWebhookEndpoint(scope: FleetScope, id: string, patch: EndpointPatch): Promise<Outcome<EndpointView>>;
  deleteWebhookEndpoint(scope: FleetScope, id: string): Promise<Outcome<{ deleted: string }>>;
  rotateWebhookSecret(scope: FleetScope, id: string): Promise<Outcome<EndpointWithSecret & { previousValidUntil: string }>>;
  listWebhookAttempts(scope: FleetScope, id: string, before: number | null, limit: number): Promise<Outcome<Page<AttemptView>>>;
  listWebhookMessages(scope: FleetScope, id: string, before: number | null, limit: number): Promise<Outcome<Page<MessageView & { seq: number }>>>;
  replayWebhookMessage(scope: FleetScope, id: string, messageId: string): Promise<Outcome<MessageView>>;
  replayWebhookSince(scope: FleetScope, id: string, since: number): Promise<Outcome<{ replayed: number; limit: number }>>;
  sendWebhookTest(scope: FleetScope, id: string): Promise<Outcome<MessageView>>;
}
