import { z } from "zod";

/**
 * The webhook event catalog: every type, its version and the zod schema of its `data`, and the
 * envelope every delivery's body has — Standard Webhooks' recommended shape
 * `{"type", "timestamp", "data"}` plus the event's `version`. The schemas are loose objects
 * (unknown members pass) so that adding a field is not a new version; removing or changing one is.
 */
const agentId = z.string().regex(/^ag_[0-9a-f]{32}$/);
const shortText = z.string().max(512);

export const EVENT_CATALOG = {
  "agent.enrolled": { version: 1, data: z.looseObject({ agentId, status: z.enum(["pending", "active"]), name: shortText }) },
  "agent.approved": { version: 1, data: z.looseObject({ agentId }) },
  "agent.revoked": { version: 1, data: z.looseObject({ agentId }) },
  "agent.online": { version: 1, data: z.looseObject({ agentId }) },
  "agent.offline": { version: 1, data: z.looseObject({ agentId, reason: shortText.optional() }) },
  "agent.quarantined": { version: 1, data: z.looseObject({ agentId, reason: shortText }) },
  "agent.released": { version: 1, data: z.looseObject({ agentId }) },
  "sync.collapse": {
    version: 1,
    data: z.looseObject({
      agentId,
      /** The record's seq in the agent's log and its index in the global log. */
      seq: z.number().int().min(0),
      index: z.number().int().min(0),
      /** When the agent sealed it: epoch ms, and ISO 8601 UTC when a date can show it. */
      sealedAtMs: z.number().int().min(0),
      sealedAt: z.iso.datetime().optional(),
      /** The record's payload (the sync layer's state at collapse). */
      payload: z.record(z.string(), z.unknown()),
    }),
  },
  "mesh.locked": { version: 1, data: z.looseObject({ r: z.number().min(0).max(1), threshold: z.number(), dwellMs: z.number().int().min(0), agents: z.number().int().min(0) }) },
  "mesh.unlocked": { version: 1, data: z.looseObject({ r: z.number().min(0).max(1), threshold: z.number(), dwellMs: z.number().int().min(0), agents: z.number().int().min(0) }) },
  "checkpoint.published": { version: 1, data: z.looseObject({ size: z.number().int().min(0), root: z.string(), note: z.string().optional() }) },
  "log.inconsistency": {
    version: 1,
    data: z.looseObject({ agentId, kind: z.enum(["fork", "consistency", "inclusion"]), reason: shortText, evidence: z.record(z.string(), z.unknown()) }),
  },
  "agent.log_inconsistent": {
    version: 1,
    data: z.looseObject({
      agentId,
      /** The size the agent signed, the root it signed, and the edge's root of the agent's records at that size (base64). */
      size: z.number().int().min(0),
      claimedRoot: z.string(),
      expectedRoot: z.string(),
      /** The agent's signed checkpoint note, as received. */
      note: z.string(),
    }),
  },
  "webhook.test": { version: 1, data: z.looseObject({ endpointId: z.string(), message: shortText }) },
} as const;

export type EventType = keyof typeof EVENT_CATALOG;
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]["data"]>;

export function isEventType(kind: string): kind is EventType {
  return Object.hasOwn(EVENT_CATALOG, kind);
}

export const eventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

/** The body of every delivery. */
export interface EventEnvelope {
  readonly type: EventType;
  readonly version: number;
  /** When the event happened (the change's time), ISO 8601 UTC with ms. */
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

export const envelopeSchema = z.strictObject({
  type: eventTypeSchema,
  version: z.number().int().min(1),
  timestamp: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

/**
 * The envelope of an event that happened at `at` (epoch ms). The data is not re-validated here:
 * the edge wrote it in the same transaction as the change, and dropping an event for a schema
 * mismatch would lose it; the tests check every emitted event against the catalog instead.
 */
export function eventEnvelope(type: EventType, data: Readonly<Record<string, unknown>>, at: number, version: number = EVENT_CATALOG[type].version): EventEnvelope {
  return { type, version, timestamp: new Date(at).toISOString(), data: { ...data } };
}

/** True when `data` matches the catalog's schema for `type`. */
export function validEventData(type: EventType, data: unknown): boolean {
  return EVENT_CATALOG[type].data.safeParse(data).success;
}
