import { describe, expect, it } from "vitest";
import { webhookSettings } from "../../edge/webhooks/webhook-env.js";
import {
  classifyAttempt,
  ENDPOINT_FAILING_DISABLE_MS,
  parseRetryAfter,
  planEndpoint,
  planMessage,
  RETRY_AFTER_MAX_MS,
  RETRY_SCHEDULE_MS,
  retryDelayMs,
  seededRandom,
} from "../../shared/webhooks/index.js";

describe("retry schedule", () => {
  it("is the spec's schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(RETRY_SCHEDULE_MS).toEqual([0, 5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]);
    expect(retryDelayMs(RETRY_SCHEDULE_MS.length, Math.random)).toBeNull();
  });

  it("jitters each delay within ±10 % with an injected random source", () => {
    for (let i = 0; i < RETRY_SCHEDULE_MS.length; i++) {
      const base = RETRY_SCHEDULE_MS[i]!;
      expect(retryDelayMs(i, () => 0)).toBe(Math.round(base * 0.9));
      expect(retryDelayMs(i, () => 0.5)).toBe(base);
      expect(retryDelayMs(i, () => 0.999999)).toBeLessThanOrEqual(Math.round(base * 1.1));
    }
    const random = seededRandom(42);
    const delays = Array.from({ length: 200 }, () => retryDelayMs(2, random)!);
    expect(new Set(delays).size).toBeGreaterThan(150);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(270_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(330_000);
    // Same seed, same sequence.
    const again = seededRandom(42);
    expect(Array.from({ length: 200 }, () => retryDelayMs(2, again)!)).toEqual(delays);
  });

  it("a broken random source cannot push a delay outside the band", () => {
    expect(retryDelayMs(1, () => NaN)).toBe(5000);
    expect(retryDelayMs(1, () => 7)).toBe(5500);
    expect(retryDelayMs(1, () => -3)).toBe(4500);
    expect(() => retryDelayMs(-1, Math.random)).toThrow(RangeError);
  });
});

describe("Retry-After", () => {
  const now = Date.UTC(2026, 11, 6, 2, 0, 0);
  it("reads delay-seconds and HTTP dates, bounded to a day", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("999999999999999999999", now)).toBe(RETRY_AFTER_MAX_MS);
    expect(parseRetryAfter("86401", now)).toBe(RETRY_AFTER_MAX_MS);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter(new Date(now + 5 * 86_400_000).toUTCString(), now)).toBe(RETRY_AFTER_MAX_MS);
  });
  it("ignores what is not one of the two forms", () => {
    for (const bad of [null, undefined, "", "-5", "1.5", "soon", "2026-12-06T02:00:00Z", "Sun, 06 Dec 2026 02:00:00 PST", "x".repeat(100)]) {
      expect(parseRetryAfter(bad, now)).toBeNull();
    }
  });
});

describe("attempt outcomes", () => {
  const random = () => 0.5;
  it("2xx succeeds, 410 is gone, everything else retries (3xx too)", () => {
    for (const status of [200, 201, 204, 299]) expect(classifyAttempt({ kind: "response", status, retryAfterMs: null }).action).toBe("succeeded");
    expect(classifyAttempt({ kind: "response", status: 410, retryAfterMs: null }).action).toBe("gone");
    for (const status of [100, 301, 302, 307, 308, 400, 401, 404, 500, 502]) {
      expect(classifyAttempt({ kind: "response", status, retryAfterMs: 5000 })).toEqual({ action: "retry", retryAfterMs: null });
    }
    expect(classifyAttempt({ kind: "response", status: 429, retryAfterMs: 7000 })).toEqual({ action: "retry", retryAfterMs: 7000 });
    expect(classifyAttempt({ kind: "response", status: 503, retryAfterMs: 7000 })).toEqual({ action: "retry", retryAfterMs: 7000 });
    expect(classifyAttempt({ kind: "error", error: "timeout" })).toEqual({ action: "retry", retryAfterMs: null });
  });

  it("a message follows the schedule, Retry-After replaces the delay, and fails after the last attempt", () => {
    const retry = { action: "retry", retryAfterMs: null } as const;
    expect(planMessage(retry, 1, 1000, random)).toEqual({ status: "pending", nextAttemptAt: 6000 });
    expect(planMessage(retry, 2, 1000, random)).toEqual({ status: "pending", nextAttemptAt: 301_000 });
    expect(planMessage({ action: "retry", retryAfterMs: 42_000 }, 1, 1000, random)).toEqual({ status: "pending", nextAttemptAt: 43_000 });
    expect(planMessage(retry, 7, 0, random)).toEqual({ status: "pending", nextAttemptAt: 36_000_000 });
    expect(planMessage(retry, 8, 0, random)).toEqual({ status: "failed", reason: "exhausted" });
    expect(planMessage({ action: "gone" }, 1, 0, random)).toEqual({ status: "failed", reason: "gone" });
    expect(planMessage({ action: "succeeded" }, 3, 0, random)).toEqual({ status: "succeeded" });
  });

  it("an endpoint is disabled on 410 or after failing for 5 days without a success", () => {
    const retry = { action: "retry", retryAfterMs: null } as const;
    expect(planEndpoint(retry, null, 100)).toEqual({ disable: null, failingSince: 100 });
    expect(planEndpoint(retry, 100, 100 + ENDPOINT_FAILING_DISABLE_MS - 1)).toEqual({ disable: null, failingSince: 100 });
    expect(planEndpoint(retry, 100, 100 + ENDPOINT_FAILING_DISABLE_MS)).toEqual({ disable: "failing", failingSince: 100 });
    expect(planEndpoint({ action: "succeeded" }, 100, 200)).toEqual({ disable: null, failingSince: null });
    expect(planEndpoint({ action: "gone" }, null, 5)).toEqual({ disable: "gone", failingSince: 5 });
  });
});

describe("webhook settings from the Worker's variables", () => {
  it("production: the spec's schedule and 15 s, whatever the test knobs say", () => {
    expect(webhookSettings({})).toEqual({ allowLoopback: false, schedule: RETRY_SCHEDULE_MS, timeoutMs: 15_000 });
    expect(webhookSettings({ WEBHOOKS_ALLOW_LOOPBACK: "true", WEBHOOKS_RETRY_SCHEDULE_MS: "0,1", WEBHOOKS_TIMEOUT_MS: "500" })).toEqual({
      allowLoopback: false,
      schedule: RETRY_SCHEDULE_MS,
      timeoutMs: 15_000,
    });
  });
  it("local development: loopback, and the knobs when they are in bounds", () => {
    expect(webhookSettings({ WEBHOOKS_ALLOW_LOOPBACK: "1", WEBHOOKS_RETRY_SCHEDULE_MS: "0,200,200", WEBHOOKS_TIMEOUT_MS: "500" })).toEqual({
      allowLoopback: true,
      schedule: [0, 200, 200],
      timeoutMs: 500,
    });
    for (const [schedule, timeout] of [["", "50"], ["0,-1", "20000"], ["0,99999999", "x"], [Array(17).fill("1").join(","), "1e3"]]) {
      expect(webhookSettings({ WEBHOOKS_ALLOW_LOOPBACK: "1", WEBHOOKS_RETRY_SCHEDULE_MS: schedule, WEBHOOKS_TIMEOUT_MS: timeout })).toEqual({
        allowLoopback: true,
        schedule: RETRY_SCHEDULE_MS,
        timeoutMs: 15_000,
      });
    }
  });
});
