import { CONNECT_HEADERS, type FleetScope } from "./scope.js";

/**
 * Internal headers from the Worker to the Fleet object on a dashboard viewer's upgrade it has
 * authorised (session cookie and Origin, edge/http/routes/dashboard-live.ts). Set only by the
 * Worker on a fresh header set; the fleet and host travel in CONNECT_HEADERS' fleetId and host.
 */
export const VIEWER_HEADERS = {
  /** SHA-256 (hex) of the session id. */
  sessionHash: "x-becomingone-viewer",
  /** The session's expiry, epoch ms. */
  expiresAt: "x-becomingone-viewer-expires",
} as const;

export interface ViewerRequest {
  readonly sessionHash: string;
  readonly expiresAt: number;
  readonly scope: FleetScope;
}

/** Reads a viewer upgrade; null when it is not one (no viewer header, no WebSocket upgrade, or malformed). */
export function readViewerRequest(headers: { get(name: string): string | null }): ViewerRequest | null {
  const sessionHash = headers.get(VIEWER_HEADERS.sessionHash);
  const expiresAt = Number(headers.get(VIEWER_HEADERS.expiresAt));
  const [fleetId, host] = [headers.get(CONNECT_HEADERS.fleetId), headers.get(CONNECT_HEADERS.host)];
  if (headers.get("Upgrade")?.toLowerCase() !== "websocket" || !sessionHash || !/^[0-9a-f]{64}$/.test(sessionHash)) return null;
  if (!fleetId || !host || !Number.isSafeInteger(expiresAt)) return null;
  return { sessionHash, expiresAt, scope: { fleetId, host } };
}
