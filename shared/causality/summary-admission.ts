/**
 * Whether a phase summary keeps its agent's declared rate, judged on the agent's own send times.
 *
 * A token bucket (`summaryHz` per second, `burst` back to back) refilled by the time between the
 * agent's summary timestamps `t`, not by when the coordinator handles them: a coordinator that fell
 * behind handles a queue of on-rate summaries back to back, and an arrival-time bucket refused them
 * (the overload spiral of issue 12). `t` is untrusted, so it is clamped to [the previous one,
 * arrival + clockSlackMs]: a peer cannot bank time that has not passed (beyond the slack, once), and
 * a clock stepping backwards refills nothing.
 *
 * A summary up to a quarter interval early is still on rate (ON_RATE_TOLERANCE): an agent that
 * sends at exactly its rate never refills the bucket, and its timer's jitter alone would otherwise
 * draw refusals once a burst emptied it. The long-run rate stays at most `summaryHz`.
 *
 * A refusal is the peer's own excess and is answered (`rate_limited`), but it is never a protocol
 * strike: shedding excess is the point, disconnecting is not.
 */

/** How early (a fraction of one interval) a summary may come and still be on rate. */
export const ON_RATE_TOLERANCE = 0.25;
export interface SummaryBucket {
  /** Tokens left, in [0, burst]. */
  readonly tokens: number;
  /** The agent-frame time the tokens were counted at (a clamped summary `t`), epoch ms. */
  readonly at: number;
}

export interface SummaryAdmission {
  readonly admitted: boolean;
  readonly bucket: SummaryBucket;
}

export interface SummaryRate {
  readonly summaryHz: number;
  readonly burst: number;
  /** How far ahead of its arrival a summary's `t` may be counted, ms. */
  readonly clockSlackMs: number;
}

export function admitSummary(previous: SummaryBucket | null, sentAt: number, arrivedAt: number, rate: SummaryRate): SummaryAdmission {
  const ceiling = arrivedAt + rate.clockSlackMs;
  if (previous === null) {
    const at = Math.min(sentAt, ceiling);
    return { admitted: true, bucket: { tokens: rate.burst - 1, at } };
  }
  const at = Math.max(previous.at, Math.min(sentAt, ceiling));
  const tokens = Math.min(rate.burst, previous.tokens + ((at - previous.at) / 1000) * rate.summaryHz);
  if (tokens < 1 - ON_RATE_TOLERANCE) return { admitted: false, bucket: { tokens, at } };
  return { admitted: true, bucket: { tokens: tokens - 1, at } };
}
