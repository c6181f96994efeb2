/**
 * The fleet config form's pure part: the fields, their bounds (shared/protocol/config-bounds.ts,
 * the same numbers the edge's schema uses), parsing a typed value and building the PATCH body of
 * what changed. The edge still validates; this only says what is wrong before a round trip.
 */
import type { FleetConfig } from "../../shared/api/index.js";
import { FLEET_CONFIG_BOUNDS, type NumberBound } from "../../shared/protocol/config-bounds.js";

export type ConfigFieldKey =
  | "coupling"
  | "summaryHz"
  | "fieldHz"
  | "maxStep"
  | "peerAgeMs"
  | "offlineAfterMs"
  | "drift.maxCausalOvershoot"
  | "drift.maxPhaseGap"
  | "drift.minPeerCoherence";

export interface ConfigField {
  readonly key: ConfigFieldKey;
  readonly label: string;
  readonly unit: string;
  readonly help: string;
  readonly bound: NumberBound;
  /** Input step attribute. */
  readonly step: string;
  readonly group: "coupling" | "rates" | "presence" | "quarantine";
}

const B = FLEET_CONFIG_BOUNDS;

export const CONFIG_FIELDS: readonly ConfigField[] = [
  { key: "coupling", label: "Coupling K", unit: "", help: "Kuramoto coupling of dθ = ω dt + K r sin(ψ − θ) dt.", bound: B.coupling, step: "any", group: "coupling" },
  { key: "maxStep", label: "Largest phase step", unit: "rad", help: "Largest |dθ| an agent applies in one tick.", bound: B.maxStep, step: "any", group: "coupling" },
  { key: "summaryHz", label: "Summary rate", unit: "Hz", help: "Most phase summaries per second an agent may send.", bound: B.summaryHz, step: "any", group: "rates" },
  { key: "fieldHz", label: "Field rate", unit: "Hz", help: "Field broadcasts per second while agents are connected.", bound: B.fieldHz, step: "any", group: "rates" },
  { key: "peerAgeMs", label: "Peer age", unit: "ms", help: "A summary older than this leaves the agent out of the field.", bound: B.peerAgeMs, step: "1", group: "presence" },
  { key: "offlineAfterMs", label: "Offline after", unit: "ms", help: "No socket and no message for this long: the agent is offline.", bound: B.offlineAfterMs, step: "1", group: "presence" },
  {
    key: "drift.maxCausalOvershoot",
    label: "Causal overshoot budget",
    unit: "ticks",
    help: "Sustained drift beyond this quarantines an agent (expected ticks during one latency, per summary interval).",
    bound: B.drift.maxCausalOvershoot,
    step: "any",
    group: "quarantine",
  },
  { key: "drift.maxPhaseGap", label: "Max phase gap", unit: "rad", help: "Kept for compatibility; no effect since issue 11.", bound: B.drift.maxPhaseGap, step: "any", group: "quarantine" },
  { key: "drift.minPeerCoherence", label: "Min peer coherence", unit: "", help: "Kept for compatibility; no effect since issue 11.", bound: B.drift.minPeerCoherence, step: "any", group: "quarantine" },
];

export function fieldValue(config: FleetConfig, key: ConfigFieldKey): number {
  if (key.startsWith("drift.")) return config.drift[key.slice(6) as keyof FleetConfig["drift"]];
  return config[key as Exclude<ConfigFieldKey, `drift.${string}`>];
}

/** The allowed range in words, e.g. "0–100", "greater than 0, at most 10", "whole number 500–600000". */
export function describeBound(b: NumberBound): string {
  const whole = b.integer === true ? "a whole number " : "";
  if (b.exclusiveMin === true) return b.max === undefined ? `${whole}greater than ${b.min}` : `${whole}greater than ${b.min} and at most ${fmt(b.max)}`;
  return b.max === undefined ? `${whole}at least ${b.min}` : `${whole}from ${fmt(b.min)} to ${fmt(b.max)}`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, "");
}

/** Parses what was typed into a field: the number, or why it is refused. */
export function parseField(field: ConfigField, text: string): { ok: true; value: number } | { ok: false; error: string } {
  const t = text.trim();
  if (t === "") return { ok: false, error: `${field.label} is required` };
  // Number("") and Number(" ") are 0 and Number("0x10") is 16: accept plain decimal notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return { ok: false, error: `${field.label} must be a number` };
  const v = Number(t);
  const b = field.bound;
  const out = () => ({ ok: false as const, error: `${field.label} must be ${describeBound(b)}` });
  if (!Number.isFinite(v)) return out();
  if (b.integer === true && !Number.isInteger(v)) return out();
  if (b.exclusiveMin === true ? v <= b.min : v < b.min) return out();
  if (b.max !== undefined && v > b.max) return out();
  return { ok: true, value: v };
}

export interface ConfigPatch {
  coupling?: number;
  summaryHz?: number;
  fieldHz?: number;
  maxStep?: number;
  peerAgeMs?: number;
  offlineAfterMs?: number;
  drift?: { maxCausalOvershoot?: number; maxPhaseGap?: number; minPeerCoherence?: number };
}

/**
 * Validates every field's text; the PATCH body holds only the values that differ from `current`.
 * `skipValidation` lets the operator send a value as typed (to see what the edge says).
 */
export function buildPatch(
  current: FleetConfig,
  texts: Readonly<Record<ConfigFieldKey, string>>,
  options: { skipValidation?: boolean } = {},
): { errors: Partial<Record<ConfigFieldKey, string>>; patch: ConfigPatch } {
  const errors: Partial<Record<ConfigFieldKey, string>> = {};
  const patch: ConfigPatch = {};
  for (const field of CONFIG_FIELDS) {
    const parsed = parseField(field, texts[field.key]);
    let value: number;
    if (parsed.ok) value = parsed.value;
    else if (options.skipValidation === true && texts[field.key].trim() !== "" && Number.isFinite(Number(texts[field.key]))) value = Number(texts[field.key]);
    else {
      errors[field.key] = parsed.error;
      continue;
    }
    if (value === fieldValue(current, field.key)) continue;
    if (field.key.startsWith("drift.")) {
      patch.drift = { ...patch.drift, [field.key.slice(6)]: value };
    } else {
      (patch as Record<string, number>)[field.key] = value;
    }
  }
  return { errors, patch };
}
