import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, DEFAULT_BACKOFF } from "../../agent/link/backoff.js";
import { summaryDue } from "../../agent/link/summaryPacing.js";

describe("reconnect backoff", () => {
  it("doubles the ceiling per attempt up to the cap, with delays in [ceiling/2, ceiling]", () => {
    const policy = { baseMs: 100, capMs: 1600 };
    const lo = (n: number) => backoffDelayMs(n, policy, () => 0);
    const hi = (n: number) => backoffDelayMs(n, policy, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5, 10].map(lo)).toEqual([50, 100, 200, 400, 800, 800, 800]);
    expect([0, 1, 2, 3, 4, 5, 10].map(hi)).toEqual([100, 200, 400, 800, 1600, 1600, 1600]);
  });

  it("never exceeds the cap, never drops to zero, even for huge attempt numbers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelayMs(attempt, DEFAULT_BACKOFF, () => r);
        return d >= DEFAULT_BACKOFF.baseMs / 2 && d <= DEFAULT_BACKOFF.capMs;
      }),
    );
  });

  it("spreads a fleet out: delays of one attempt differ with the random draw", () => {
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelayMs(6)));
    expect(draws.size).toBeGreaterThan(10);
  });

  it("refuses nonsense", () => {
    expect(() => backoffDelayMs(-1)).toThrow(RangeError);
    expect(() => backoffDelayMs(1.5)).toThrow(RangeError);
    expect(() => backoffDelayMs(0, { baseMs: 0, capMs: 10 })).toThrow(RangeError);
    expect(() => backoffDelayMs(0, { baseMs: 100, capMs: 10 })).toThrow(RangeError);
  });
});

describe("summary pacing", () => {
  it("sends the first summary at once, then not sooner than 0.8 of the fleet interval", () => {
    expect(summaryDue(undefined, 1000, 2)).toBe(true);
    expect(summaryDue(1000, 1399, 2)).toBe(false);
    expect(summaryDue(1000, 1400, 2)).toBe(true);
    expect(summaryDue(1000, 1079, 10)).toBe(false);
    expect(summaryDue(1000, 1080, 10)).toBe(true);
  });

  it("stays above the edge's 0.75 refusal threshold for every rate", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.integer({ min: 0, max: 100_000 }), (hz, gap) => {
        return !summaryDue(0, gap, hz) || gap >= (0.75 * 1000) / hz;
      }),
    );
  });
});
