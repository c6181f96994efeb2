import { RETRY_SCHEDULE_MS, retryDelayMs, type RandomSource } from "./retry-schedule.js";

/**
 * What one delivery attempt means for the message and its endpoint. Pure: the deliverer performs
 * the request, this decides. 2xx succeeds; 410 Gone disables the endpoint; every other answer
 * (3xx included: redirects are never followed), a timeout or a network error is retried on the
 * schedule, with a `Retry-After` of a 429 or 503 taking the place of the scheduled delay.
 */
export type AttemptResult =
  | { readonly kind: "response"; readonly status: number; readonly retryAfterMs: number | null }
  | { readonly kind: "error"; readonly error: "timeout" | "network" };

export type AttemptVerdict =
  | { readonly action: "succeeded" }
  | { readonly action: "gone" }
  | { readonly action: "retry"; readonly retryAfterMs: number | null };

/** An endpoint failing without a single success for this long is disabled. */
export const ENDPOINT_FAILING_DISABLE_MS = 5 * 24 * 60 * 60 * 1000;

export function classifyAttempt(result: AttemptResult): AttemptVerdict {
  if (result.kind === "error") return { action: "retry", retryAfterMs: null };
  if (result.status >= 200 && result.status <= 299) return { action: "succeeded" };
  if (result.status === 410) return { action: "gone" };
  const honoursRetryAfter = result.status === 429 || result.status === 503;
  return { action: "retry", retryAfterMs: honoursRetryAfter ? result.retryAfterMs : null };
}

export type MessageNext =
  | { readonly status: "succeeded" }
  | { readonly status: "failed"; readonly reason: "exhausted" | "gone" }
  | { readonly status: "pending"; readonly nextAttemptAt: number };

/**
 * The message's next state after an attempt. `attemptsInRound` counts the attempts made in this
 * round including the one just judged (a replay starts a new round at 0).
 */
export function planMessage(
  verdict: AttemptVerdict,
  attemptsInRound: number,
  now: number,
  random: RandomSource,
  schedule: readonly number[] = RETRY_SCHEDULE_MS,
): MessageNext {
  if (verdict.action === "succeeded") return { status: "succeeded" };
  if (verdict.action === "gone") return { status: "failed", reason: "gone" };
  const delay = retryDelayMs(attemptsInRound, random, schedule);
  if (delay === null) return { status: "failed", reason: "exhausted" };
  return { status: "pending", nextAttemptAt: now + (verdict.retryAfterMs ?? delay) };
}

export type EndpointNext =
  | { readonly disable: null; readonly failingSince: number | null }
  | { readonly disable: "gone" | "failing"; readonly failingSince: number | null };

/** The endpoint's failure clock after an attempt, and whether it must be disabled now. */
export function planEndpoint(verdict: AttemptVerdict, failingSince: number | null, now: number): EndpointNext {
  if (verdict.action === "succeeded") return { disable: null, failingSince: null };
  const since = failingSince ?? now;
  if (verdict.action === "gone") return { disable: "gone", failingSince: since };
  return { disable: now - since >= ENDPOINT_FAILING_DISABLE_MS ? "failing" : null, failingSince: since };
}
