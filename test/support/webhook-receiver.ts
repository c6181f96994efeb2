/**
 * A real HTTP receiver for webhook tests: a node:http server on 127.0.0.1 that records every
 * request (headers, exact body bytes, arrival time) and answers from a script — a status with
 * headers, or "hang" (never answers until closed). With a secret it checks each signature with the
 * independent `standardwebhooks` package at arrival (its 5-minute tolerance against the real clock).
 *
 * @example
 * ```ts
 * const receiver = await startReceiver();
 * receiver.script(500, 500, 200); // two failures, then success; later requests get 200
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export type Answer = number | "hang" | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string; readonly delayMs?: number };

export interface ReceivedRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly receivedAt: number;
  readonly id: string;
  readonly timestamp: number;
  readonly signature: string;
  /** Verification result when a secret was set: null = verified, else the error message. */
  readonly verifyError: string | null | undefined;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Answers for the next requests, in order; after the script runs out, `fallback`. */
  script(...answers: Answer[]): void;
  fallback: Answer;
  /** The secrets that must verify each request (each alone). */
  secrets: string[];
  /** Requests being answered right now, and the most at once. */
  readonly concurrent: number;
  readonly maxConcurrent: number;
  /** Resolves when `count` requests have arrived (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queue: Answer[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;

  const receiver: Receiver = {
    url: "",
    port: 0,
    requests,
    fallback: 200,
    secrets: [],
    get concurrent() {
      return concurrent;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    script: (...answers) => void queue.push(...answers),
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${requests.length} of ${count} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests.slice())) });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const body = Buffer.concat(chunks).toString("utf8");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      let verifyError: string | null | undefined;
      if (receiver.secrets.length > 0) {
        verifyError = null;
        for (const secret of receiver.secrets) {
          try {
            new Webhook(secret).verify(body, headers);
          } catch (err) {
            verifyError = `${secret.slice(0, 10)}…: ${(err as Error).message}`;
          }
        }
      }
      requests.push({
        path: req.url ?? "",
        method: req.method ?? "",
        headers,
        body,
        receivedAt: Date.now(),
        id: headers["webhook-id"] ?? "",
        timestamp: Number(headers["webhook-timestamp"]),
        signature: headers["webhook-signature"] ?? "",
        verifyError,
      });
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.count) w.resolve();
        else waiters.push(w);
      }
      const answer = queue.length > 0 ? queue.shift()! : receiver.fallback;
      const done = () => void concurrent--;
      if (answer === "hang") {
        hanging.add(res);
        res.on("close", () => (hanging.delete(res), done()));
        return;
      }
      const spec = typeof answer === "number" ? { status: answer } : answer;
      const send = () => {
        res.writeHead(spec.status, { "content-type": "text/plain", ...spec.headers });
        res.end(spec.body ?? `status ${spec.status}`);
        done();
      };
      if (spec.delayMs) setTimeout(send, spec.delayMs);
      else send();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  Object.assign(receiver, { url: `http://127.0.0.1:${actual}`, port: actual });
  return receiver;
}
