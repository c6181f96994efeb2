/**
 * The live channel: one WebSocket to /v1/dashboard/live (session cookie + Origin checked by the edge),
 * decoded into the store. Reconnects with exponential backoff and jitter (0.5 s → 10 s); says "stale"
 * when nothing arrived for 5 s (the edge sends a fleet message at least every 2 s).
 */
import { signal } from "@preact/signals";
import { LIVE_PING, LIVE_PONG, parseLiveMessage, VIEWER_SESSION_CLOSE } from "../../shared/dashboard/live-messages.js";
import { decodePhaseFrame } from "../../shared/dashboard/phase-frame.js";
import { store } from "./store.js";

export type LiveState = "live" | "reconnecting" | "stale";

export const liveStatus = signal<{ readonly state: LiveState; readonly staleSeconds: number }>({ state: "reconnecting", staleSeconds: 0 });

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const STALE_AFTER_MS = 5_000;
const PING_EVERY_MS = 20_000;

export interface LiveClientOptions {
  /** Called when the edge refuses or ends the session: the shell shows sign-in. */
  readonly onSessionEnded: () => void;
}

export class LiveClient {
  readonly #options: LiveClientOptions;
  #socket: WebSocket | null = null;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #tick: ReturnType<typeof setInterval> | null = null;
  #lastPing = 0;
  #stopped = true;

  constructor(options: LiveClientOptions) {
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    this.#connect();
    this.#tick = setInterval(() => this.#check(), 1000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#reconnectTimer = null;
    this.#tick = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) socket.close(1000, "bye");
    store.reset();
    liveStatus.value = { state: "reconnecting", staleSeconds: 0 };
  }

  #connect(): void {
    const url = new URL("/v1/dashboard/live", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    socket.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (this.#socket !== socket) return;
      this.#attempt = 0;
      if (event.data instanceof ArrayBuffer) {
        try {
          store.applyFrame(decodePhaseFrame(event.data));
        } catch {
          return; // a malformed frame is dropped, not fatal
        }
      } else if (typeof event.data === "string") {
        if (event.data === LIVE_PONG) {
          store.lastMessageAt = Date.now();
        } else {
          try {
            store.apply(parseLiveMessage(event.data));
          } catch {
            return; // not one of the three messages: dropped
          }
        }
      }
      if (liveStatus.value.state !== "live") liveStatus.value = { state: "live", staleSeconds: 0 };
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#stopped) return;
      liveStatus.value = { state: "reconnecting", staleSeconds: 0 };
      if (event.code === VIEWER_SESSION_CLOSE) {
        this.#options.onSessionEnded();
        return;
      }
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 10);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#stopped) void this.#reconnectIfSignedIn();
    }, delay);
  }

  /** A refused upgrade looks like any close; ask the session route whether to keep trying. */
  async #reconnectIfSignedIn(): Promise<void> {
    if (this.#attempt >= 2) {
      try {
        const response = await fetch("/v1/session", { credentials: "same-origin" });
        if (response.status === 401) {
          this.#options.onSessionEnded();
          return;
        }
      } catch {
        // the edge is unreachable: keep backing off
      }
    }
    if (!this.#stopped) this.#connect();
  }

  #check(): void {
    const socket = this.#socket;
    const now = Date.now();
    if (socket !== null && socket.readyState === WebSocket.OPEN) {
      if (now - this.#lastPing >= PING_EVERY_MS) {
        this.#lastPing = now;
        socket.send(LIVE_PING);
      }
      const silentFor = now - store.lastMessageAt;
      if (store.lastMessageAt > 0 && silentFor > STALE_AFTER_MS) {
        const staleSeconds = Math.floor(silentFor / 1000);
        if (liveStatus.value.state !== "stale" || liveStatus.value.staleSeconds !== staleSeconds) liveStatus.value = { state: "stale", staleSeconds };
      }
    }
  }
}
