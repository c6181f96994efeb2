import { describe, expect, it } from "vitest";
import { TokenQueue, tokenBytes, type QueuedToken } from "../../agent/runtime/tokenQueue.js";

const phase = (n = 1024): QueuedToken => ({ type: "phase", phases: new Array<number>(n).fill(0.5), source: "api" });
const text = (t = "token"): QueuedToken => ({ type: "text", text: t, source: "api" });

describe("token queue", () => {
  it("bounds the memory it holds, not just the count: phase vectors fill it long before 1024 tokens", () => {
    const queue = new TokenQueue(1024, 0.5, 100_000);
    let accepted = 0;
    while (queue.offer([phase()])) accepted++;
    // 8,256 bytes each: 12 fit in 100,000.
    expect(tokenBytes(phase())).toBe(64 + 8 * 1024);
    expect(accepted).toBe(12);
    expect(queue.stats()).toMatchObject({ depth: 12, bytes: 12 * 8256, maxBytes: 100_000, refused: 1 });
    // Full by bytes: a long text token waits too (a short one still fits in what is left), and the
    // retry hint counts the tokens that must drain first.
    expect(queue.fits([text("x".repeat(500))])).toBe(false);
    expect(queue.fits([text()])).toBe(true);
    expect(queue.secondsUntilRoomFor([phase()], 20)).toBe(1);
    // Draining takes the bytes back; stream sources wake once below half of both limits.
    let woke = false;
    void queue.whenSpace().then(() => (woke = true));
    for (let i = 0; i < 6; i++) queue.take();
    expect(queue.stats().bytes).toBe(6 * 8256);
    return Promise.resolve().then(() => {
      expect(woke).toBe(true);
      expect(queue.offer([text()])).toBe(true);
    });
  });

  it("takes any one batch into an empty queue, however heavy, so no input is refused forever", () => {
    const queue = new TokenQueue(8, 0.5, 1_000);
    expect(queue.offer([phase(1024)])).toBe(true);
    expect(queue.offer([text()])).toBe(false);
    queue.take();
    expect(queue.stats().bytes).toBe(0);
    expect(queue.offer([text(), text()])).toBe(true);
    expect(queue.clear()).toBe(2);
    expect(queue.stats().bytes).toBe(0);
  });
});
