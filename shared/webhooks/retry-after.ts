/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. A receiver may ask for any delay,
 * so the answer is bounded: at most a day, never negative.
 */
export const RETRY_AFTER_MAX_MS = 24 * 60 * 60 * 1000;

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** The delay the header asks for in ms (0 … RETRY_AFTER_MAX_MS), or null when absent or malformed. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  if (header === null || header === undefined) return null;
  const text = header.trim();
  if (text.length === 0 || text.length > 64) return null;
  if (/^\d+$/.test(text)) {
    // Long digit strings are clamped, not parsed into imprecise numbers.
    const seconds = text.length > 9 ? Number.MAX_SAFE_INTEGER : Number(text);
    return Math.min(seconds * 1000, RETRY_AFTER_MAX_MS);
  }
  if (!IMF_FIXDATE.test(text)) return null;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return null;
  return Math.min(Math.max(at - now, 0), RETRY_AFTER_MAX_MS);
}
