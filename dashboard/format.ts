/** Small display helpers shared by the views. */

export function formatAgo(when: string | number | null, now: number): string {
  if (when === null) return "never";
  const ms = now - (typeof when === "number" ? when : Date.parse(when));
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1500) return "just now";
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

export function formatNumber(value: number | null, digits = 2): string {
  return value === null || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

export function formatTime(iso: string | number): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "–" : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function shortHash(base64: string): string {
  return base64.length > 16 ? `${base64.slice(0, 12)}…` : base64;
}
