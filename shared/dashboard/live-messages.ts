/**
 * The dashboard live channel's text messages, object → browser (docs/api.md, "Dashboard live
 * channel"). Types plus a light structural check for the browser; no zod, to keep the bundle small.
 */
import type { AgentStatus, FleetView } from "../api/index.js";

export type LiveStatus = AgentStatus;

/** One agent as the live set holds it. `i` is a compact index, stable for the socket's life. */
export interface LiveAgent {
  readonly i: number;
  readonly id: string;
  readonly name: string;
  readonly hardware: string | null;
  readonly status: LiveStatus;
  readonly online: boolean;
  readonly connected: boolean;
  /** `since`: epoch ms, or null when the time is unknown. */
  readonly quarantine: { readonly reason: string; readonly since: number | null } | null;
  /** Epoch ms or null. */
  readonly lastSeenAt: number | null;
  readonly lamport: number | null;
  readonly nextSeq: number;
  readonly agentLogSize: number | null;
  readonly tokenHz: number | null;
  readonly coherence: number | null;
  readonly theta: number | null;
  readonly omega: number | null;
  /** The last summary's time, epoch ms, or null (no summary yet). */
  readonly t: number | null;
}

/** The fleet as GET /v1/fleet answers it. */
export type LiveFleet = FleetView;

/** [epoch ms, r, ψ]. */
export type HistorySample = readonly [number, number, number];

export interface SnapshotMessage {
  readonly type: "snapshot";
  readonly at: number;
  readonly fleet: LiveFleet;
  readonly agents: readonly LiveAgent[];
  /** Oldest first, one a second, the last 10 minutes. */
  readonly history: readonly HistorySample[];
}

/** Apply `remove` first, then `upsert` (an index freed by a removal is only reused in a later message, but be safe). */
export interface AgentsMessage {
  readonly type: "agents";
  readonly at: number;
  readonly upsert: readonly LiveAgent[];
  readonly remove: readonly number[];
}

export interface FleetMessage {
  readonly type: "fleet";
  readonly at: number;
  readonly fleet: LiveFleet;
  readonly sample: HistorySample;
}

export type LiveMessage = SnapshotMessage | AgentsMessage | FleetMessage;

/** What a viewer may send: exactly this text (answered "pong"). Anything else closes the socket with 1008. */
export const LIVE_PING = "ping";
export const LIVE_PONG = "pong";
/** Frames a viewer may send per second, and bytes per frame. */
export const VIEWER_MAX_FRAMES_PER_SECOND = 10;
export const VIEWER_MAX_FRAME_BYTES = 64;
/** Viewer sockets per fleet. */
export const MAX_VIEWERS = 16;
/** Deltas at most this often; a `fleet` message at least this often (the client's staleness check). */
export const LIVE_FLUSH_GAP_MS = 250;
export const LIVE_HEARTBEAT_MS = 2000;
/** r history: this long, one sample a second. */
export const LIVE_HISTORY_MS = 10 * 60 * 1000;
export const LIVE_HISTORY_STEP_MS = 1000;
/** Close code of a viewer whose session ended (expired or signed out). */
export const VIEWER_SESSION_CLOSE = 4401;

export class LiveMessageError extends Error {
  override readonly name = "LiveMessageError";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isSample(v: unknown): v is HistorySample {
  return Array.isArray(v) && v.length === 3 && v.every(isNumber);
}

function isLiveAgent(v: unknown): v is LiveAgent {
  return (
    isObject(v) &&
    Number.isInteger(v.i) &&
    typeof v.id === "string" &&
    typeof v.name === "string" &&
    (v.status === "pending" || v.status === "active" || v.status === "revoked") &&
    typeof v.online === "boolean" &&
    typeof v.connected === "boolean" &&
    (v.quarantine === null || (isObject(v.quarantine) && typeof v.quarantine.reason === "string"))
  );
}

function isFleet(v: unknown): v is LiveFleet {
  return isObject(v) && typeof v.fleetId === "string" && isObject(v.agents) && isObject(v.field) && isNumber(v.field.r) && isObject(v.log);
}

/**
 * Parses one text frame of the live channel; throws LiveMessageError (only) when it is not JSON or
 * not one of the three messages in its outline. Fields inside are the edge's; the check is a guard
 * against a wrong endpoint or a version skew, not a full schema.
 */
export function parseLiveMessage(text: string): LiveMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LiveMessageError("not JSON");
  }
  if (!isObject(value) || !isNumber(value.at)) throw new LiveMessageError("not a live message");
  switch (value.type) {
    case "snapshot":
      if (isFleet(value.fleet) && Array.isArray(value.agents) && value.agents.every(isLiveAgent) && Array.isArray(value.history) && value.history.every(isSample)) {
        return value as unknown as SnapshotMessage;
      }
      break;
    case "agents":
      if (Array.isArray(value.upsert) && value.upsert.every(isLiveAgent) && Array.isArray(value.remove) && value.remove.every((i) => Number.isInteger(i))) {
        return value as unknown as AgentsMessage;
      }
      break;
    case "fleet":
      if (isFleet(value.fleet) && isSample(value.sample)) return value as unknown as FleetMessage;
      break;
  }
  throw new LiveMessageError(`malformed ${typeof value.type === "string" ? value.type.slice(0, 20) : "message"}`);
}
