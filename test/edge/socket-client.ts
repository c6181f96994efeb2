/** A real `ws` client that keeps every protocol message and waits for the ones a test wants. */
import WebSocket from "ws";
import { decodeEdgeMessage, type EdgeMessage } from "../../shared/protocol/index.js";

export class SocketClient {
  readonly messages: EdgeMessage[] = [];
  readonly invalid: string[] = [];
  /** [arrival epoch ms, field.t] of every field message, for fan-out delay. */
  readonly fieldArrivals: [number, number][] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #ws: WebSocket;
  readonly #waiters = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data) => {
      const decoded = decodeEdgeMessage(data.toString());
      if (decoded.ok) {
        this.messages.push(decoded.message);
        if (decoded.message.type === "field") this.fieldArrivals.push([Date.now(), decoded.message.t]);
      }
      else this.invalid.push(`${decoded.code}: ${decoded.message}`);
      this.#wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Opens a socket with `Authorization: Bearer <jwt>`; resolves when open, rejects with the HTTP refusal.
   * `closeTimeoutMs`: how long `ws` waits, after a close frame, for the server to end the connection
   * before it reports `close` (default 30 s).
   */
  static async connect(url: string, jwt: string, options: { closeTimeoutMs?: number } = {}): Promise<SocketClient> {
    // `closeTimeout` is a ws 8 client option that @types/ws does not list yet.
    const clientOptions: WebSocket.ClientOptions & { closeTimeout?: number } = {
      headers: { Authorization: `Bearer ${jwt}` },
      ...(options.closeTimeoutMs === undefined ? {} : { closeTimeout: options.closeTimeoutMs }),
    };
    const ws = new WebSocket(url, clientOptions);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new SocketClient(ws)));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => reject(new RefusedUpgrade(res.statusCode ?? 0, body)));
      });
      ws.once("error", (err) => reject(err));
    });
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Waits for the first message (from `from` on) of `type` matching `where`. */
  async next<T extends EdgeMessage["type"]>(
    type: T,
    where: (message: Extract<EdgeMessage, { type: T }>) => boolean = () => true,
    options: { timeoutMs?: number; from?: number } = {},
  ): Promise<Extract<EdgeMessage, { type: T }>> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    let seen = options.from ?? 0;
    const find = () => {
      for (; seen < this.messages.length; seen++) {
        const message = this.messages[seen]!;
        if (message.type === type && where(message as Extract<EdgeMessage, { type: T }>)) return message as Extract<EdgeMessage, { type: T }>;
      }
      return undefined;
    };
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (this.closed !== undefined) {
          cleanup();
          reject(new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${type}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${type} message within ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(",")}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits for the socket to close; resolves with code and reason. */
  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error(`socket still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.closed;
  }

  close(): void {
    this.#ws.close();
  }
}

export class RefusedUpgrade extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }

  get code(): string | undefined {
    try {
      return (JSON.parse(this.body) as { error?: { code?: string } }).error?.code;
    } catch {
      return undefined;
    }
  }
}
