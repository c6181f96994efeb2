import { closeQuietly, isCurrentConnection, readConnection, type PeerSocket, type SocketDirectory } from "./connection.js";

/** The sockets workerd holds for the object (hibernated ones included), seen through connection state. */
export class FleetSockets implements SocketDirectory {
  readonly #ctx: DurableObjectState;

  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx;
  }

  all(): WebSocket[] {
    return this.#ctx.getWebSockets();
  }

  ofAgent(agentId: string): WebSocket[] {
    return this.#ctx.getWebSockets(agentId);
  }

  open(): boolean {
    return this.all().length > 0;
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
