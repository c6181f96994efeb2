import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitSummary, type SummaryBucket } from "../../shared/causality/summary-admission.js";

const RATE = { summaryHz: 2, burst: 2, clockSlackMs: 1000, maxCreditMs: 30_000 };

/** Feeds summaries sent at `sent[i]` and handled at `handled[i]`; returns which were admitted. */
function run(sent: readonly number[], handled: readonly number[]): boolean[] {
  let bucket: SummaryBucket | null = null;
  return sent.map((t, i) => {
    const result = admitSummary(bucket, t, handled[i]!, RATE);
    bucket = result.bucket;
    return result.admitted;
  });
}

describe("summary admission (the agent's own clock sets the pace)", () => {
  it("admits on-rate summaries however late and bunched the coordinator handles them", () => {
    const sent = Array.from({ length: 40 }, (_, i) => 1_000_000 + i * 500);
    // The coordinator fell 8 s behind the last one sent and then handles the whole queue within 40 ms.
    const handled = sent.map((_, i) => 1_000_000 + 28_000 + i);
    expect(run(sent, handled).every(Boolean)).toBe(true);
  });

  it("refuses exactly the excess of an agent sending at three times its rate", () => {
    const sent = Array.from({ length: 60 }, (_, i) => 1_000_000 + Math.round((i * 500) / 3));
    const admitted = run(sent, sent).filter(Boolean).length;
    // 10 s of agent time at 2 Hz, plus the burst.
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(22);
  });

  it("never refuses an on-rate agent whose timer jitters, even after a burst emptied its bucket", () => {
    const sent: number[] = [];
    let t = 1_000_000;
    for (let i = 0; i < 6; i++) sent.push((t += 100)); // a burst: 6 in 0.6 s
    const afterBurst = sent.length;
    for (let i = 0; i < 200; i++) sent.push((t += 500 + ((i * 7919) % 41) - 20)); // 2 Hz ± 20 ms
    const admitted = run(sent, sent);
    expect(admitted.slice(afterBurst + 1).every(Boolean)).toBe(true);
    expect(admitted.slice(0, afterBurst).filter((a) => !a).length).toBeGreaterThan(0);
  });

  it("cannot be gamed by timestamps from the future or the past", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 200 }), (offsets) => {
        // One summary every 10 ms of real time for 2 s at most, with arbitrary claimed send times.
        const handled = offsets.map((_, i) => 5_000_000_000 + i * 10);
        const admitted = run(offsets.map((o, i) => handled[i]! + o), handled).filter(Boolean).length;
        const realMs = handled.at(-1)! - handled[0]!;
        // The burst, the slack, the one-time credit and the real elapsed time: nothing more.
        const bound = RATE.burst + Math.ceil(((RATE.clockSlackMs + RATE.maxCreditMs + realMs) / 1000) * RATE.summaryHz) + 1;
        expect(admitted).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 500 },
    );
  });

  it("a flood with timestamps marching from the past gets the credit once, then the real rate", () => {
    // 1,000 summaries a second for 10 s, each claiming 500 ms after the last, starting a year ago.
    const handled = Array.from({ length: 10_000 }, (_, i) => 5_000_000_000 + i);
    const sent = handled.map((_, i) => 5_000_000_000 - 365 * 86_400_000 + i * 500);
    const admitted = run(sent, handled).filter(Boolean).length;
    expect(admitted).toBeLessThanOrEqual(RATE.burst + ((RATE.clockSlackMs + RATE.maxCreditMs + 10_000) / 1000) * RATE.summaryHz + 1);
  });
});
