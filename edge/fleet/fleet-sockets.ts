import {
  closeQuietly,
  closeReplacedAfterGrace,
  isCurrentConnection,
  markReplaced,
  readConnection,
  REPLACED_GRACE_MS,
  writeConnection,
  type ConnectionState,
  type PeerSocket,
  type SocketDirectory,
} from "./connection.js";
import { readViewer } from "./viewer-socket.js";

/** The sockets workerd holds for the object (hibernated ones included), seen through connection state. */
export class FleetSockets implements SocketDirectory {
  readonly #ctx: DurableObjectState;
  /** How many sockets the runtime holds, counted once per accept or close (every timer asks). */
  #count: number | undefined;
  /** Sockets found current once; from then on only their `replacedAt` can change that. */
  readonly #current = new WeakSet<WebSocket>();

  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx;
  }

  /**
   * Accepts a hibernatable socket for `agentId` and returns the client end. One live connection per
   * agent: the newest socket (highest generation) is the agent's current one; every older one stops
   * being served now and is closed with 4000 on its next message, or by the timer when
   * REPLACED_GRACE_MS ends (connection.ts says why not at once).
   */
  accept(agentId: string, generation: number, now: number): WebSocket {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.#ctx.acceptWebSocket(server, [agentId]);
    this.#count = undefined;
    writeConnection(server, { agentId, generation, connectedAt: now, replacedAt: null, helloed: false, strikes: 0, strikeWindowStart: now });
    const sameAgent = this.ofAgent(agentId);
    if (sameAgent.length > 1) {
      markReplaced(server, sameAgent, now);
      // A timer keeps the object awake; if it is evicted anyway, the alarm's housekeeping closes them.
      setTimeout(() => closeReplacedAfterGrace(this.ofAgent(agentId), Date.now()), REPLACED_GRACE_MS + 50);
    }
    return client;
  }

  /** The agents' sockets: dashboard viewers' (viewer-socket.ts) are not agents and never counted or served here. */
  all(): WebSocket[] {
    return this.#ctx.getWebSockets().filter((ws) => readViewer(ws) === undefined);
  }

  ofAgent(agentId: string): WebSocket[] {
    return this.#ctx.getWebSockets(agentId);
  }

  open(): boolean {
    this.#count ??= this.all().length;
    return this.#count > 0;
  }

  /** A socket closed: the count is taken again when next asked. */
  closed(): void {
    this.#count = undefined;
  }

  /**
   * Whether `ws` is its agent's current socket (connection.ts isCurrentConnection). Checked against
   * the agent's other sockets once; after that a replacement shows in its state (`replacedAt`).
   */
  isCurrent(ws: WebSocket, state: ConnectionState): boolean {
    if (state.replacedAt != null) return false;
    if (this.#current.has(ws)) return true;
    const current = isCurrentConnection(ws, state, this.ofAgent(state.agentId));
    if (current) this.#current.add(ws);
    return current;
  }

  helloed(): PeerSocket[] {
    return this.all().filter((ws) => readConnection(ws)?.helloed === true);
  }

  /** The agents with a socket (replaced ones included): who is really connected. */
  liveAgentIds(): Set<string> {
    const ids = new Set<string>();
    for (const ws of this.all()) {
      const agentId = readConnection(ws)?.agentId;
      if (agentId !== undefined) ids.add(agentId);
    }
    return ids;
  }

  /** Whether `agentId` still has a current socket other than `closing`. */
  hasCurrent(agentId: string, closing: WebSocket): boolean {
    const sameAgent = this.ofAgent(agentId);
    return sameAgent.some((other) => {
      const state = other === closing || other.readyState !== WebSocket.OPEN ? undefined : readConnection(other);
      return state !== undefined && isCurrentConnection(other, state, sameAgent);
    });
  }

  closeAgent(agentId: string, code: number, reason: string): void {
    for (const ws of this.ofAgent(agentId)) closeQuietly(ws, code, reason);
  }
}
