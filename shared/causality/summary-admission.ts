/**
 * Whether a phase summary keeps its agent's declared rate, judged on the agent's own send times.
 *
 * A token bucket (`summaryHz` per second, `burst` back to back) refilled by the time between the
 * agent's summary timestamps `t`, not by when the coordinator handles them: a coordinator that fell
 * behind handles a queue of on-rate summaries back to back, and an arrival-time bucket refused them
 * (the overload spiral of issue 12).
 *
 * `t` is untrusted, so the agent's clock is credited only as far as the coordinator's allows: it may
 * run ahead of the time that passed between arrivals by at most `clockSlackMs`, plus the credit a
 * stall left (time that passed on the coordinator while the agent's clock did not: the queue a
 * lagging object is about to handle back to back), at most `maxCreditMs`. The first summary's
 * lateness (arrival − t) is such credit too. So over any stretch an agent gets at most the burst,
 * the slack, the credit and the real elapsed time's worth of summaries, whatever timestamps it
 * claims; a clock stepping backwards refills nothing.
 *
 * A summary up to a quarter interval early is still on rate (ON_RATE_TOLERANCE): an agent that sends
 * at exactly its rate never refills the bucket, and its timer's jitter alone would otherwise draw
 * refusals once a burst emptied it.
 *
 * A refusal is the peer's own excess and is answered (`rate_limited`), but it is never a protocol
 * strike: shedding excess is the point, disconnecting is not.
 */

/** How early (a fraction of one interval) a summary may come and still be on rate. */
export const ON_RATE_TOLERANCE = 0.25;

export interface SummaryBucket {
  /** Tokens left, in [−ON_RATE_TOLERANCE, burst]. */
  readonly tokens: number;
  /** The agent-frame time credited so far, epoch ms. */
  readonly at: number;
  /** When the last summary was handled, coordinator clock, epoch ms. */
  readonly arrivedAt: number;
  /** How far the credited agent clock is ahead of the arrivals (negative: credit left by a stall), ms. */
  readonly lead: number;
}

export interface SummaryAdmission {
  readonly admitted: boolean;
  readonly bucket: SummaryBucket;
}

export interface SummaryRate {
  readonly summaryHz: number;
  readonly burst: number;
  /** How far the agent's clock may run ahead of the arrivals, ms. */
  readonly clockSlackMs: number;
  /** How much stall credit may build up, ms. */
  readonly maxCreditMs: number;
}

export function admitSummary(previous: SummaryBucket | null, sentAt: number, arrivedAt: number, rate: SummaryRate): SummaryAdmission {
  if (previous === null) {
    const lead = -Math.min(rate.maxCreditMs, Math.max(0, arrivedAt - sentAt));
    return { admitted: true, bucket: { tokens: rate.burst - 1, at: sentAt, arrivedAt, lead } };
  }
  const agentElapsed = Math.max(0, sentAt - previous.at);
  const arrivalElapsed = Math.max(0, arrivedAt - previous.arrivedAt);
  const credit = Math.max(-rate.maxCreditMs, previous.lead - arrivalElapsed);
  const credited = Math.max(0, Math.min(agentElapsed, rate.clockSlackMs - credit));
  const bucket = {
    tokens: Math.min(rate.burst, previous.tokens + (credited / 1000) * rate.summaryHz),
    at: previous.at + credited,
    arrivedAt: Math.max(previous.arrivedAt, arrivedAt),
    lead: credit + credited,
  };
  if (bucket.tokens < 1 - ON_RATE_TOLERANCE) return { admitted: false, bucket };
  return { admitted: true, bucket: { ...bucket, tokens: bucket.tokens - 1 } };
}
