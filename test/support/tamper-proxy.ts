/**
 * A hostile network between a real agent process and the real edge: forwards HTTP and the agent's
 * WebSocket both ways unchanged (Host kept, so the edge's answers point back through it), except
 * that a test can rewrite the next agent message matching a rule — e.g. a summary with a forged
 * Lamport clock, which the edge must quarantine. The agent itself stays honest and unmodified.
 *
 * @example
 * ```ts
 * const proxy = await startTamperProxy(edge.port);
 * proxy.tamperNext((m) => (m.type === "summary" ? { ...m, lamport: Number(m.lamport) + 1e6 } : null));
 * ```
 */
import { createServer, request as httpRequest } from "node:http";
import { listenOnLoopback } from "./loopback-listen.js";
import WebSocket, { WebSocketServer } from "ws";

type Message = Record<string, unknown>;
/** Returns the replacement for a message it wants to change, or null to let it pass. */
export type Tamper = (message: Message) => Message | null;

export interface TamperProxy {
  readonly url: string;
  /** Rewrites the next agent → edge message the rule changes (once). Resolves when it was sent. */
  tamperNext(rule: Tamper): Promise<Message>;
  /** Cuts every WebSocket passing through (as a network failure would); the agent reconnects. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTamperProxy(edgePort: number): Promise<TamperProxy> {
  const pairs = new Set<WebSocket>();
  let pending: { rule: Tamper; done: (m: Message) => void } | undefined;

  const server = createServer((req, res) => {
    const upstream = httpRequest({ host: "127.0.0.1", port: edgePort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const headers: Record<string, string> = {};
    for (const name of ["authorization", "host"]) if (typeof req.headers[name] === "string") headers[name] = req.headers[name] as string;
    const upstream = new WebSocket(`ws://127.0.0.1:${edgePort}${req.url ?? "/"}`, { headers, perMessageDeflate: false });
    upstream.on("unexpected-response", (_r, answer) => {
      // A refused upgrade goes back to the agent as the edge gave it.
      socket.write(`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}\r\nconnection: close\r\ncontent-type: application/json\r\n\r\n`);
      answer.pipe(socket);
    });
    upstream.on("error", () => socket.destroy());
    upstream.on("open", () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        pairs.add(client).add(upstream);
        client.on("message", (data, isBinary) => {
          let out: WebSocket.RawData | string = data;
          if (!isBinary && pending !== undefined) {
            const message = JSON.parse(data.toString()) as Message;
            const changed = pending.rule(message);
            if (changed !== null) {
              out = JSON.stringify(changed);
              const { done } = pending;
              pending = undefined;
              done(changed);
            }
          }
          if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary: isBinary });
        });
        upstream.on("message", (data, isBinary) => client.readyState === WebSocket.OPEN && client.send(data, { binary: isBinary }));
        const closeBoth = (code: number, reason: Buffer) => {
          const safe = code === 1005 || code === 1006 || code < 1000 ? 1000 : code;
          for (const ws of [client, upstream]) if (ws.readyState === WebSocket.OPEN) ws.close(safe, reason);
        };
        client.on("close", closeBoth);
        upstream.on("close", closeBoth);
        client.on("error", () => upstream.terminate());
        upstream.on("error", () => client.terminate());
      });
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    tamperNext: (rule) => new Promise((done) => (pending = { rule, done })),
    dropConnections: () => {
      for (const ws of pairs) ws.terminate();
      pairs.clear();
    },
    close: async () => {
      for (const ws of pairs) ws.terminate();
      await listener.close();
    },
  };
}
