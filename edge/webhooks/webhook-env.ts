import { RETRY_SCHEDULE_MS } from "../../shared/webhooks/index.js";
import { DELIVERY_TIMEOUT_MS } from "./deliverer.js";

/**
 * The Worker variables that shape webhook delivery (docs/webhooks.md, "Local development"):
 * `WEBHOOKS_ALLOW_LOOPBACK=1` turns local-development mode on; only then are the test knobs
 * `WEBHOOKS_RETRY_SCHEDULE_MS` (comma-separated delays) and `WEBHOOKS_TIMEOUT_MS` read, so a
 * deployed fleet always runs the spec's schedule and the 15 s timeout.
 */
export interface WebhookEnv {
  readonly WEBHOOKS_ALLOW_LOOPBACK?: string;
  readonly WEBHOOKS_RETRY_SCHEDULE_MS?: string;
  readonly WEBHOOKS_TIMEOUT_MS?: string;
}

export interface WebhookSettings {
  readonly allowLoopback: boolean;
  readonly schedule: readonly number[];
  readonly timeoutMs: number;
}

function parseSchedule(text: string | undefined): readonly number[] | null {
  if (text === undefined || !/^\d{1,8}(,\d{1,8}){0,15}$/.test(text.trim())) return null;
  const delays = text.trim().split(",").map(Number);
  return delays.every((d) => d <= RETRY_SCHEDULE_MS[RETRY_SCHEDULE_MS.length - 1]!) ? delays : null;
}

function parseTimeout(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text.trim())) return null;
  const ms = Number(text.trim());
  return ms >= 100 && ms <= DELIVERY_TIMEOUT_MS ? ms : null;
}

export function webhookSettings(env: WebhookEnv): WebhookSettings {
  const allowLoopback = env.WEBHOOKS_ALLOW_LOOPBACK === "1";
  if (!allowLoopback) return { allowLoopback, schedule: RETRY_SCHEDULE_MS, timeoutMs: DELIVERY_TIMEOUT_MS };
  return {
    allowLoopback,
    schedule: parseSchedule(env.WEBHOOKS_RETRY_SCHEDULE_MS) ?? RETRY_SCHEDULE_MS,
    timeoutMs: parseTimeout(env.WEBHOOKS_TIMEOUT_MS) ?? DELIVERY_TIMEOUT_MS,
  };
}
