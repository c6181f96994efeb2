/**
 * Timestamps: the engine works in epoch seconds (a double), at microsecond resolution like the
 * reference's Python datetimes. Conversions to and from ISO 8601 UTC strings keep every microsecond.
 */

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)$/;

/** Epoch microseconds of an ISO 8601 UTC timestamp, or undefined when the text is not one. */
export function parseIsoMicros(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(ms)) return undefined;
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return undefined;
  const micros = frac === undefined ? 0 : Number(frac.padEnd(6, "0"));
  return ms * 1000 + micros;
}

/** Epoch seconds (double) of an ISO 8601 UTC timestamp, or undefined. */
export function parseIsoSeconds(text: string): number | undefined {
  const us = parseIsoMicros(text);
  return us === undefined ? undefined : us / 1e6;
}

/** Epoch seconds rounded to the nearest microsecond, as an integer count of µs. */
export function secondsToMicros(seconds: number): number {
  return Math.round(seconds * 1e6);
}

/** ISO 8601 UTC like Python's isoformat + "Z": six fraction digits, none when the µs part is 0. */
export function formatIsoMicros(seconds: number): string {
  const us = secondsToMicros(seconds);
  const ms = Math.floor(us / 1000);
  const micros = us - Math.floor(us / 1e6) * 1e6;
  const base = new Date(ms).toISOString().slice(0, 19);
  return micros === 0 ? `${base}Z` : `${base}.${String(micros).padStart(6, "0")}Z`;
}

/** Now, in epoch seconds at µs resolution (UTC by construction). */
export function nowSeconds(): number {
  return secondsToMicros(Date.now() / 1000) / 1e6;
}
