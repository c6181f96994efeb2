/** The dashboard's copy of the event catalog's types equals the catalog (without webhook.test). */
import { expect, it } from "vitest";
import { EVENT_TYPES } from "../../shared/webhooks/events.js";
import { SUBSCRIBABLE_EVENT_TYPES } from "../../dashboard/views/webhook-events.js";

it("lists every catalog event type an endpoint can subscribe to", () => {
  expect([...SUBSCRIBABLE_EVENT_TYPES].sort()).toEqual(EVENT_TYPES.filter((t) => t !== "webhook.test").sort());
});
