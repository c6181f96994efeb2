import { LIMITS, PROTOCOL_VERSION, type EdgeMessage, type ProtocolErrorCode, type WithoutVersion } from "../../shared/protocol/index.js";

/**
 * A hibernatable connection's small typed state, kept in the socket's serialized attachment so it
 * survives the object's eviction (partyserver's connection-state idea).
 */
export interface ConnectionState {
  readonly agentId: string;
  readonly connectedAt: number;
  helloed: boolean;
  /** Errors caused within the current strike window. */
  strikes: number;
  strikeWindowStart: number;
}

export function readConnection(ws: WebSocket): ConnectionState | undefined {
  try {
    const value = ws.deserializeAttachment() as ConnectionState | null;
    return value ?? undefined;
  } catch {
    return undefined;
  }
}

export function writeConnection(ws: WebSocket, state: ConnectionState): void {
  ws.serializeAttachment(state);
}

/** Sends one protocol message; a socket that is closing is skipped, never thrown through. */
export function sendMessage(ws: WebSocket, message: WithoutVersion<EdgeMessage>): void {
  try {
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...message }));
  } catch {
    // The peer went away; its close event does the bookkeeping.
  }
}

export function sendError(
  ws: WebSocket,
  code: ProtocolErrorCode,
  message: string,
  extra: { ref?: string | undefined; details?: Record<string, number | string | boolean | null> } = {},
): void {
  sendMessage(ws, {
    type: "error",
    code,
    message,
    ...(extra.ref === undefined ? {} : { ref: extra.ref }),
    ...(extra.details === undefined ? {} : { details: extra.details }),
  });
}

/**
 * Counts one error against the connection; past LIMITS.strikes within LIMITS.strikeWindowMs the
 * socket is closed with 1008 (policy violation). Returns true if it was closed.
 */
export function strike(ws: WebSocket, state: ConnectionState, now: number): boolean {
  if (now - state.strikeWindowStart > LIMITS.strikeWindowMs) {
    state.strikeWindowStart = now;
    state.strikes = 0;
  }
  state.strikes += 1;
  writeConnection(ws, state);
  if (state.strikes > LIMITS.strikes) {
    try {
      ws.close(1008, `too many protocol errors (${state.strikes} in ${LIMITS.strikeWindowMs / 1000} s)`);
    } catch {
      // already closing
    }
    return true;
  }
  return false;
}
