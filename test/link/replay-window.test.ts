import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReplayWindow } from "../../agent/link/replayWindow.js";

describe("replay window", () => {
  it("resumes from the edge's nextSeq and sends the backlog in order, in batches, bounded in flight", () => {
    const w = new ReplayWindow(64, 128);
    w.reset(10);
    expect(w.next(10)).toBeUndefined();
    expect(w.next(300)).toEqual({ from: 10, count: 64 });
    w.markSent(10, 64);
    expect(w.next(300)).toEqual({ from: 74, count: 64 });
    w.markSent(74, 64);
    expect(w.inFlight).toBe(128);
    expect(w.next(300)).toBeUndefined(); // window full until an ack
    expect(w.onAck(74)).toBe(true);
    expect(w.next(300)).toEqual({ from: 138, count: 64 });
  });

  it("sends only what is durable", () => {
    const w = new ReplayWindow(64, 256);
    w.reset(0);
    expect(w.next(3)).toEqual({ from: 0, count: 3 });
    w.markSent(0, 3);
    expect(w.next(3)).toBeUndefined();
    expect(w.next(5)).toEqual({ from: 3, count: 2 });
  });

  it("never moves the ack point backwards on a late ack", () => {
    const w = new ReplayWindow(4, 8);
    w.reset(0);
    w.markSent(0, 4);
    expect(w.onAck(4)).toBe(true);
    expect(w.onAck(2)).toBe(false);
    expect(w.ackedNext).toBe(4);
  });

  it("an ack beyond what this session sent (records sent by an earlier session) skips them", () => {
    const w = new ReplayWindow(4, 8);
    w.reset(0);
    w.onAck(6);
    expect(w.sentNext).toBe(6);
    expect(w.next(10)).toEqual({ from: 6, count: 4 });
  });

  it("rewinds to the edge's expected seq after seq_gap and resends from there", () => {
    const w = new ReplayWindow(4, 16);
    w.reset(0);
    w.markSent(0, 4);
    w.markSent(4, 4);
    w.rewind(3);
    expect(w.next(20)).toEqual({ from: 3, count: 4 });
  });

  it("refuses a batch that does not continue the last one", () => {
    const w = new ReplayWindow(4, 8);
    w.reset(2);
    expect(() => w.markSent(3, 1)).toThrow(RangeError);
    expect(() => w.reset(-1)).toThrow(RangeError);
    expect(() => new ReplayWindow(8, 4)).toThrow(RangeError);
  });

  it("property: under any interleaving of durable growth, sends and acks, every seq goes out in order and exactly once per session", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("grow" as const), n: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ kind: fc.constant("send" as const) }),
      fc.record({ kind: fc.constant("ack" as const), k: fc.integer({ min: 0, max: 200 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.array(op, { maxLength: 200 }), (start, ops) => {
        const w = new ReplayWindow(8, 32);
        w.reset(start);
        let durable = start;
        const sent: number[] = [];
        for (const o of ops) {
          if (o.kind === "grow") durable += o.n;
          else if (o.kind === "send") {
            const b = w.next(durable);
            if (b) {
              for (let s = b.from; s < b.from + b.count; s++) sent.push(s);
              w.markSent(b.from, b.count);
            }
          } else {
            // The edge acks a prefix of what was sent.
            w.onAck(Math.min(w.sentNext, w.ackedNext + o.k));
          }
          if (w.inFlight > 32 || w.inFlight < 0) return false;
          if (w.sentNext > durable) return false;
        }
        return sent.every((s, i) => s === start + i);
      }),
    );
  });
});
