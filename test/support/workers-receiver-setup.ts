/**
 * vitest globalSetup for the workers project: one receiver hub on loopback for the whole run,
 * its URL provided to the tests in workerd as `inject("webhookHub")`.
 */
import type { TestProject } from "vitest/node";
import { startReceiverHub } from "./webhook-receiver-hub.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const hub = await startReceiverHub();
  project.provide("webhookHub" as never, hub.url as never);
  return () => hub.close();
}
