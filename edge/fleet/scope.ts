/**
 * Internal headers from the Worker to the Fleet object on an upgrade it has authenticated. The object
 * is reachable only through the Worker, which sets these itself (never from the client's request).
 */
export const CONNECT_HEADERS = {
  agentId: "x-becomingone-agent-id",
  jti: "x-becomingone-jti",
  jtiExpiresAt: "x-becomingone-jti-expires-at",
  fleetId: "x-becomingone-fleet-id",
  host: "x-becomingone-host",
} as const;

/** Who is asking: the fleet's name and the public host the request came in on. */
export interface FleetScope {
  readonly fleetId: string;
  readonly host: string;
}

/** The fleet a request addresses when it names none. */
export const DEFAULT_FLEET_ID = "default";

/** An authenticated upgrade as the Worker forwards it. */
export interface ConnectRequest {
  readonly agentId: string;
  readonly jti: string;
  readonly jtiExpiresAt: number;
  readonly scope: FleetScope;
}

/** Reads the Worker's internal upgrade headers; null when any is missing or the request is no WebSocket upgrade. */
export function readConnectRequest(headers: { get(name: string): string | null }): ConnectRequest | null {
  const [agentId, jti, fleetId, host] = [headers.get(CONNECT_HEADERS.agentId), headers.get(CONNECT_HEADERS.jti), headers.get(CONNECT_HEADERS.fleetId), headers.get(CONNECT_HEADERS.host)];
  const jtiExpiresAt = Number(headers.get(CONNECT_HEADERS.jtiExpiresAt));
  if (headers.get("Upgrade")?.toLowerCase() !== "websocket" || !agentId || !jti || !fleetId || !host || !Number.isFinite(jtiExpiresAt)) return null;
  return { agentId, jti, jtiExpiresAt, scope: { fleetId, host } };
}
