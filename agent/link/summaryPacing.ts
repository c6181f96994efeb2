/**
 * Summaries go out at most at the fleet's rate: not sooner than 0.8 of the interval after the last
 * one (the edge refuses a summary sooner than 0.75 of it, so clock jitter never costs a strike).
 */
export function summaryDue(lastSentMs: number | undefined, nowMs: number, summaryHz: number): boolean {
  if (lastSentMs === undefined) return true;
  if (!(summaryHz > 0)) return false;
  return nowMs - lastSentMs >= (0.8 * 1000) / summaryHz;
}
