import { z } from "zod";
import { URL_MAX_LENGTH } from "./url-policy.js";
import { eventTypeSchema, type EventType } from "./events.js";

/**
 * The admin API's webhook bodies and answers (docs/webhooks.md, docs/api.md). Bodies are strict:
 * an unknown member is refused, so a typo is an error rather than a silent default.
 */
const eventTypes = z
  .array(eventTypeSchema)
  .max(32)
  .refine((list) => new Set(list).size === list.length, { message: "eventTypes: no duplicates" });

export const endpointCreateSchema = z.strictObject({
  url: z.string().min(1).max(URL_MAX_LENGTH),
  /** The events to receive; empty or absent = every event type. */
  eventTypes: eventTypes.optional(),
  enabled: z.boolean().optional(),
  description: z.string().max(256).optional(),
});
export type EndpointCreate = z.infer<typeof endpointCreateSchema>;

export const endpointPatchSchema = z
  .strictObject({
    url: z.string().min(1).max(URL_MAX_LENGTH).optional(),
    eventTypes: eventTypes.optional(),
    enabled: z.boolean().optional(),
    description: z.string().max(256).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: "give at least one of url, eventTypes, enabled, description" });
export type EndpointPatch = z.infer<typeof endpointPatchSchema>;

export const replaySinceSchema = z.strictObject({
  /** Replays the endpoint's messages created at or after this instant (ISO 8601 UTC). */
  since: z.iso.datetime(),
});

export type DisabledReason = "operator" | "gone" | "failing";

export interface EndpointView {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  /** Empty = every event type. */
  readonly eventTypes: readonly EventType[];
  readonly enabled: boolean;
  /** Why it is disabled: by an operator, by a 410 Gone answer, or after failing for 5 days. */
  readonly disabledReason: DisabledReason | null;
  readonly disabledAt: string | null;
  /** Since when every attempt has failed (null after any success). */
  readonly failingSince: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The secrets that sign (never their value): the newest, and a rotated one until it expires. */
  readonly secrets: readonly { readonly createdAt: string; readonly expiresAt: string | null }[];
}

/** A created endpoint or a rotation: the only answers that carry a secret, shown once. */
export interface EndpointWithSecret {
  readonly endpoint: EndpointView;
  readonly secret: string;
}

export type MessageStatus = "pending" | "delivering" | "succeeded" | "failed";

export interface MessageView {
  readonly id: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly status: MessageStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  /** The exact body every attempt sends. */
  readonly body: string;
}

export interface AttemptView {
  /** Position in the endpoint's log (newest first in pages); use as `before` for the next page. */
  readonly seq: number;
  readonly messageId: string;
  readonly attempt: number;
  readonly at: string;
  readonly outcome: "succeeded" | "failed" | "gone" | "interrupted";
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  /** The first bytes of the receiver's answer (at most 512 characters). */
  readonly response: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `before` to get the next (older) page; null at the end. */
  readonly next: number | null;
}
