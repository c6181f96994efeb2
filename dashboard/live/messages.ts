/**
 * The live channel's messages as the contract fixes them. Until shared/dashboard lands (dash-live),
 * the types and the phase-frame decoder live here; at merge they are re-exported from there.
 */
import type { FleetView } from "../api/types.js";

export interface LiveAgent {
  readonly i: number;
  readonly id: string;
  readonly name: string;
  readonly hardware: string | null;
  readonly status: "pending" | "active" | "revoked";
  readonly online: boolean;
  readonly connected: boolean;
  readonly quarantine: { readonly reason: string; readonly since: string | null } | null;
  readonly lastSeenAt: string | null;
  readonly lamport: number | null;
  readonly nextSeq: number;
  readonly agentLogSize: number;
  readonly tokenHz: number | null;
  readonly coherence: number | null;
  readonly theta: number | null;
  readonly omega: number | null;
  readonly t: number | null;
}

export type RSample = readonly [number, number, number];

export type LiveMessage =
  | { readonly type: "snapshot"; readonly at: number; readonly fleet: FleetView; readonly agents: readonly LiveAgent[]; readonly history: readonly RSample[] }
  | { readonly type: "agents"; readonly at: number; readonly upsert: readonly LiveAgent[]; readonly remove: readonly number[] }
  | { readonly type: "fleet"; readonly at: number; readonly fleet: FleetView; readonly sample: RSample };

export interface PhaseFrameEntry {
  readonly i: number;
  readonly theta: number;
  readonly omega: number;
  readonly coherence: number;
  readonly dtMs: number;
}

export interface PhaseFrame {
  readonly at: number;
  readonly entries: readonly PhaseFrameEntry[];
}

const HEADER_BYTES = 12;
const ENTRY_BYTES = 13;
const TWO_PI = 2 * Math.PI;

/** Decodes a binary phase frame (little-endian; see the contract). Throws on a malformed frame. */
export function decodePhaseFrame(bytes: ArrayBuffer): PhaseFrame {
  const view = new DataView(bytes);
  if (bytes.byteLength < HEADER_BYTES) throw new Error("phase frame shorter than its header");
  if (view.getUint8(0) !== 1) throw new Error(`phase frame version ${view.getUint8(0)} is not 1`);
  const count = view.getUint16(2, true);
  const at = view.getFloat64(4, true);
  if (bytes.byteLength !== HEADER_BYTES + count * ENTRY_BYTES) throw new Error("phase frame length does not match its count");
  const entries: PhaseFrameEntry[] = new Array<PhaseFrameEntry>(count);
  for (let k = 0, o = HEADER_BYTES; k < count; k++, o += ENTRY_BYTES) {
    entries[k] = {
      i: view.getUint16(o, true),
      theta: (view.getUint16(o + 2, true) / 65536) * TWO_PI,
      omega: view.getFloat32(o + 4, true),
      coherence: view.getUint8(o + 8) / 255,
      dtMs: view.getInt32(o + 9, true),
    };
  }
  return { at, entries };
}

/** Parses a text message; null for anything that is not one of the three known shapes. */
export function parseLiveMessage(text: string): LiveMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const m = value as { type?: unknown; at?: unknown };
  if (typeof m.at !== "number") return null;
  if (m.type === "snapshot" || m.type === "agents" || m.type === "fleet") return value as LiveMessage;
  return null;
}
