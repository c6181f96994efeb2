import { describe, expect, it } from "vitest";
import { monotonicMs, TokenClock, type TickInfo } from "../../agent/clock/tokenClock.js";

describe("token clock", () => {
  it("ticks 200 ± 1 times in 10 s at 20 Hz, on the absolute schedule", async () => {
    const clock = new TokenClock({ hz: 20 });
    const ticks: TickInfo[] = [];
    const start = monotonicMs();
    clock.start((t) => ticks.push(t));
    // Wait past the window; only ticks that ran within the first 10 s count, so a late wake-up of
    // the test itself changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 10_300));
    clock.stop();
    const inWindow = ticks.filter((t) => t.ranMs - start <= 10_000);
    // Indices skip missed ticks, so the last index + 1 counts every tick that fell due: 200 ± 1.
    const fellDue = inWindow[inWindow.length - 1]!.index + 1;
    expect(Math.abs(fellDue - 200)).toBeLessThanOrEqual(1);
    expect(ticks.length).toBe(clock.stats().ticks);
    // On an idle machine none are missed (200 ± 1 run); a few may be when the whole test suite
    // loads both cores at once — a stall longer than a period skips a tick rather than bursting.
    expect(fellDue - inWindow.length).toBeLessThanOrEqual(5);
    // Due times are t0 + n/f exactly: no accumulated drift.
    const t0 = ticks[0]!.dueMs;
    for (const t of ticks) expect(t.dueMs - t0).toBeCloseTo(t.index * 50, 6);
    // Never early.
    for (const t of ticks) expect(t.ranMs).toBeGreaterThanOrEqual(t.dueMs - 0.25);
  }, 20_000);

  it("counts a blocked event loop as late and missed ticks instead of bursting", async () => {
    const clock = new TokenClock({ hz: 100 });
    const indices: number[] = [];
    let blocked = false;
    clock.start((t) => {
      indices.push(t.index);
      if (!blocked && t.index === 3) {
        blocked = true;
        const until = monotonicMs() + 75; // 7.5 periods
        while (monotonicMs() < until) {
          // busy: a handler overrunning its budget
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    clock.stop();
    const stats = clock.stats();
    expect(stats.missed).toBeGreaterThanOrEqual(6);
    expect(stats.late).toBeGreaterThanOrEqual(1);
    const after = indices[indices.indexOf(3) + 1]!;
    expect(after).toBeGreaterThanOrEqual(10);
    expect(() => new TokenClock({ hz: 0 })).toThrow(RangeError);
  });
});
