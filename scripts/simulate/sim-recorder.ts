/**
 * What the agents of one thread observed, as raw timestamped samples (epoch ms), so the phases can be
 * cut afterwards by time. Flat number arrays travel cheaply between worker threads.
 */
export interface RawSamples {
  /** Send time of every summary. */
  readonly summariesSent: number[];
  /** Pairs [send time, ms until the first field broadcast at or after it arrived]. */
  readonly fieldE2e: number[];
  /** Pairs [receipt time, receipt − field.t]: the edge's broadcast-to-receipt time. */
  readonly fieldBroadcast: number[];
  /** Pairs [receipt time, field.n]. */
  readonly fieldN: number[];
  /** Pairs [send time, records in the message]. */
  readonly recordsSent: number[];
  /** Pairs [receipt time, records newly acknowledged]. */
  readonly recordsAcked: number[];
  /** Pairs [send time of the records message, ms until its ack]. */
  readonly ackLatency: number[];
  /** Pairs [send time, ping round trip ms]. */
  readonly pings: number[];
  /** [time, code, ref ("" when none), agent index] of every `error` message. */
  readonly errors: [number, string, string, number][];
  /** [time, close code, agent index] of every socket close we did not ask for. */
  readonly closes: [number, number, number][];
  /** Pairs [welcome time, ms from connect start to welcome]. */
  readonly connects: number[];
  /** [time, code, agent index] of refused or failed connects. */
  readonly connectFailures: [number, string, number][];
  /** [time, agent index] of every `standing` that quarantined an agent. */
  readonly quarantines: [number, number][];
}

export function emptySamples(): RawSamples {
  return {
    summariesSent: [],
    fieldE2e: [],
    fieldBroadcast: [],
    fieldN: [],
    recordsSent: [],
    recordsAcked: [],
    ackLatency: [],
    pings: [],
    errors: [],
    closes: [],
    connects: [],
    connectFailures: [],
    quarantines: [],
  };
}

/** Appends b's samples to a (threads' results into one). */
export function mergeSamples(a: RawSamples, b: RawSamples): void {
  for (const key of Object.keys(a) as (keyof RawSamples)[]) {
    const target = a[key] as unknown[];
    for (const item of b[key] as unknown[]) target.push(item);
  }
}
