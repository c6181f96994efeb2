import { LIMITS, PROTOCOL_VERSION, type EdgeMessage, type ProtocolErrorCode, type WithoutVersion } from "../../shared/protocol/index.js";

/** What the fleet's modules need of a socket: send a text frame, close it. */
export interface PeerSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** A socket whose small state travels with it (workerd: a hibernatable WebSocket's attachment). */
export interface AttachedSocket extends PeerSocket {
  readonly readyState: number;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

/** The sockets a broadcast reaches: the current ones that said hello. */
export interface SocketDirectory {
  helloed(): PeerSocket[];
}

/** WebSocket.OPEN, spelled out so this module needs no platform globals. */
export const SOCKET_OPEN = 1;

/**
 * A hibernatable connection's small typed state, kept in the socket's serialized attachment so it
 * survives the object's eviction (partyserver's connection-state idea).
 */
export interface ConnectionState {
  readonly agentId: string;
  /**
   * Fleet-wide, strictly increasing per accepted socket: an agent's current socket is its open one
   * with the highest generation. Absent on sockets accepted before generations existed (read as 0).
   */
  readonly generation?: number;
  readonly connectedAt: number;
  /** When a newer socket of the same agent was accepted; null while this one is current. */
  replacedAt?: number | null;
  helloed: boolean;
  /** Errors caused within the current strike window. */
  strikes: number;
  strikeWindowStart: number;
}

export function readConnection(ws: AttachedSocket): ConnectionState | undefined {
  try {
    const value = ws.deserializeAttachment() as ConnectionState | null;
    return value ?? undefined;
  } catch {
    return undefined;
  }
}

export function writeConnection(ws: AttachedSocket, state: ConnectionState): void {
  ws.serializeAttachment(state);
}

/** Close code and reason of a socket replaced by a newer connection of the same agent. */
export const REPLACED_CLOSE = { code: 4000, reason: "replaced by a newer connection" } as const;

/**
 * How long a replaced socket may stay open waiting to be closed from its own message handler.
 * Why wait at all: workerd completes the close handshake and ends the TCP connection only when the
 * socket is closed from its own event (a message); a close() issued from another request (the new
 * socket's upgrade, an alarm) sends the close frame but leaves the connection open until the client
 * gives up (30 s for `ws`). A replaced client that speaks within the grace is closed cleanly at once;
 * a silent one gets its 4000 from the timer (or the sweep) when the grace ends. Never served meanwhile.
 */
export const REPLACED_GRACE_MS = 5000;

function generationOf(state: ConnectionState | undefined): number {
  return state?.generation ?? 0;
}

/**
 * True if `ws` is its agent's current socket: not marked replaced, and no socket of the same agent
 * in `sameAgent` (the runtime's open sockets with the agent's tag) has a higher generation. Either
 * test alone suffices; both together hold whatever order upgrades and messages interleave in.
 */
export function isCurrentConnection(ws: AttachedSocket, state: ConnectionState, sameAgent: readonly AttachedSocket[]): boolean {
  if (state.replacedAt != null) return false;
  const mine = generationOf(state);
  return sameAgent.every((other) => other === ws || other.readyState !== SOCKET_OPEN || generationOf(readConnection(other)) < mine);
}

/**
 * Marks every socket in `sameAgent` but `current` as replaced: it is no longer served (no broadcast
 * reaches it: `helloed` is cleared) and is closed on its next message or when the grace ends.
 */
export function markReplaced(current: AttachedSocket, sameAgent: readonly AttachedSocket[], now: number): void {
  for (const old of sameAgent) {
    if (old === current) continue;
    const state = readConnection(old);
    if (state === undefined || state.replacedAt != null) continue;
    try {
      writeConnection(old, { ...state, helloed: false, replacedAt: now });
    } catch {
      // closed meanwhile
    }
  }
}

/** Closes `ws` with 4000 "replaced by a newer connection"; a socket already closing is left alone. */
export function closeReplaced(ws: PeerSocket): void {
  try {
    ws.close(REPLACED_CLOSE.code, REPLACED_CLOSE.reason);
  } catch {
    // already closing
  }
}

/** Closes every socket whose replacement is at least the grace old (the silent ones). */
export function closeReplacedAfterGrace(sockets: readonly AttachedSocket[], now: number): void {
  for (const ws of sockets) {
    const replacedAt = readConnection(ws)?.replacedAt;
    if (replacedAt != null && now - replacedAt >= REPLACED_GRACE_MS && ws.readyState === SOCKET_OPEN) closeReplaced(ws);
  }
}

/** Sends one protocol message; a socket that is closing is skipped, never thrown through. */
export function sendMessage(ws: PeerSocket, message: WithoutVersion<EdgeMessage>): void {
  try {
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...message }));
  } catch {
    // The peer went away; its close event does the bookkeeping.
  }
}

export function sendError(
  ws: PeerSocket,
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
export function strike(ws: AttachedSocket, state: ConnectionState, now: number): boolean {
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

/** Closes `ws`; a socket already closing or closed is left alone. */
export function closeQuietly(ws: PeerSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing
  }
}
