/**
 * Summaries go out at most at the fleet's rate: not sooner than 0.8 of the interval after the last
 * one. The edge enforces summaryHz with a token bucket (bursts of 2): offers come at most at the
 * fleet's rate, so a send up to 20 % early (clock jitter) only borrows from the burst, never a strike.
 */
export function summaryDue(lastSentMs: number | undefined, nowMs: number, summaryHz: number): boolean {
  if (lastSentMs === undefined) return true;
  if (!(summaryHz > 0)) return false;
  return nowMs - lastSentMs >= (0.8 * 1000) / summaryHz;
}
