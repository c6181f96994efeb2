import { describe, expect, it } from "vitest";
import { AGENT_MESSAGE_BURST, AGENT_MESSAGES_PER_SECOND, MessageBudget } from "../../agent/link/messageBudget.js";
import { LIMITS } from "../../shared/protocol/limits.js";

/** The edge's bucket, as edge/fleet/fleet.ts #admitMessage runs it. */
function edgeBucket() {
  let tokens: number = LIMITS.connectionMessageBurst;
  let at: number | undefined;
  return (now: number): boolean => {
    if (at !== undefined) tokens = Math.min(LIMITS.connectionMessageBurst, tokens + ((now - at) / 1000) * LIMITS.connectionMessagesPerSecond);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

describe("MessageBudget", () => {
  it("stays a margin below the edge's rate and burst", () => {
    expect(AGENT_MESSAGES_PER_SECOND).toBeLessThan(LIMITS.connectionMessagesPerSecond);
    expect(AGENT_MESSAGE_BURST).toBeLessThanOrEqual(LIMITS.connectionMessageBurst / 4);
  });

  it("gives its burst at once, then its rate; waitMs says when the next token comes", () => {
    const b = new MessageBudget(10, 3);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(0)).toBe(100);
    expect(b.tryTake(99)).toBe(false);
    expect(b.tryTake(100)).toBe(true);
    // Never more than the burst, however long it was idle.
    expect(b.available(1_000_000)).toBe(3);
  });

  it("keeps the reserve for other messages", () => {
    const b = new MessageBudget(10, 3);
    expect([b.tryTake(0, 1), b.tryTake(0, 1), b.tryTake(0, 1)]).toEqual([true, true, false]);
    expect(b.tryTake(0)).toBe(true);
    expect(b.waitMs(0, 1)).toBe(200);
    // A reserve as large as the burst cannot lock the sender out for good.
    expect(new MessageBudget(10, 2).tryTake(0, 5)).toBe(true);
  });

  it("mints nothing when the wall clock steps back", () => {
    const b = new MessageBudget(10, 2);
    b.tryTake(10_000);
    b.tryTake(10_000);
    expect(b.tryTake(5_000)).toBe(false);
    expect(b.tryTake(5_050)).toBe(false);
    expect(b.tryTake(5_100)).toBe(true);
  });

  it("a sender that always takes when it can is never refused by the edge's bucket", () => {
    const agent = new MessageBudget();
    const edge = edgeBucket();
    let sent = 0;
    for (let now = 0; now <= 600_000; now += 7) {
      if (!agent.tryTake(now)) continue;
      sent++;
      expect(edge(now)).toBe(true);
    }
    // ≈ 16/s for 10 minutes.
    expect(sent).toBeGreaterThan(AGENT_MESSAGES_PER_SECOND * 600 * 0.95);
    expect(sent).toBeLessThanOrEqual(AGENT_MESSAGES_PER_SECOND * 600 + AGENT_MESSAGE_BURST);
  });
});
