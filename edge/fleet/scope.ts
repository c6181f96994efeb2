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
