import { LIVE_PING, LIVE_PONG, VIEWER_MAX_FRAME_BYTES, VIEWER_MAX_FRAMES_PER_SECOND } from "../../shared/dashboard/index.js";

/** The tag a dashboard viewer's socket is accepted with (agents' sockets are tagged with their id). */
export const VIEWER_TAG = "viewer";

/** A dashboard viewer's socket as the feed uses it (workerd: a hibernatable WebSocket). */
export interface ViewerSocket {
  readonly readyState: number;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

/** A viewer's state, in its attachment so it survives hibernation. Times: epoch ms. */
export interface ViewerAttachment {
  readonly kind: "viewer";
  /** SHA-256 (hex) of the session id: sign-out closes the session's viewers. */
  readonly sessionHash: string;
  readonly expiresAt: number;
  readonly openedAt: number;
}

/** Per socket object: its viewer attachment, or null for any other socket (so an agent's is read once too). */
const attached = new WeakMap<object, ViewerAttachment | null>();

/** The viewer attachment of `ws`, or undefined for any other socket (an agent's). Read once per socket object. */
export function readViewer(ws: Pick<ViewerSocket, "deserializeAttachment">): ViewerAttachment | undefined {
  const cached = attached.get(ws);
  if (cached !== undefined) return cached ?? undefined;
  let value: Partial<ViewerAttachment> | null = null;
  try {
    value = ws.deserializeAttachment() as Partial<ViewerAttachment> | null;
  } catch {
    return undefined;
  }
  const viewer = value?.kind === "viewer" && typeof value.sessionHash === "string" && typeof value.expiresAt === "number" ? (value as ViewerAttachment) : null;
  // An agent socket's attachment is set right after accept; only a definite answer is cached.
  if (value !== null) attached.set(ws, viewer);
  return viewer ?? undefined;
}

export function writeViewer(ws: ViewerSocket, attachment: ViewerAttachment): void {
  ws.serializeAttachment(attachment);
  attached.set(ws, attachment);
}

/** Frames received in the current one-second window, per socket object (memory: a wake-up starts afresh). */
const windows = new WeakMap<object, { start: number; count: number }>();

export type ViewerVerdict = { readonly reply: string } | { readonly close: string };

/**
 * What a viewer's frame earns: exactly "ping" gets "pong"; anything else, a frame over
 * VIEWER_MAX_FRAME_BYTES, or more than VIEWER_MAX_FRAMES_PER_SECOND frames in a second closes it (1008).
 */
export function judgeViewerFrame(ws: object, frame: string | ArrayBuffer, now: number): ViewerVerdict {
  let window = windows.get(ws);
  if (window === undefined || now - window.start >= 1000) windows.set(ws, (window = { start: now, count: 0 }));
  window.count++;
  if (window.count > VIEWER_MAX_FRAMES_PER_SECOND) return { close: `more than ${VIEWER_MAX_FRAMES_PER_SECOND} frames a second` };
  const bytes = typeof frame === "string" ? frame.length : frame.byteLength;
  if (bytes > VIEWER_MAX_FRAME_BYTES) return { close: `frames are limited to ${VIEWER_MAX_FRAME_BYTES} bytes` };
  if (frame !== LIVE_PING) return { close: 'a viewer may only send "ping"' };
  return { reply: LIVE_PONG };
}

/** Closes `ws`; a socket already closing or closed is left alone. */
export function closeViewer(ws: Pick<ViewerSocket, "close">, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing
  }
}

/** Sends a frame; a viewer that went away is skipped (its close event does the bookkeeping). */
export function sendToViewer(ws: Pick<ViewerSocket, "send">, data: string | ArrayBuffer | ArrayBufferView): void {
  try {
    ws.send(data);
  } catch {
    // gone
  }
}
