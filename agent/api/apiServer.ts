import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM files; both or neither. */
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  /** Whole header block must arrive within this; default 10 s (slowloris). */
  readonly headersTimeoutMs?: number;
  /** Whole request (headers + body) within this; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this; default 5 s. */
  readonly keepAliveTimeoutMs?: number;
  /** How often Node checks the two timeouts above; default min(1 s, headersTimeout / 4). */
  readonly checkIntervalMs?: number;
}

export interface ApiServer {
  readonly url: string;
  readonly address: AddressInfo;
  readonly tls: boolean;
  close(): Promise<void>;
}

/** Starts the API on @hono/node-server with timeouts and limits against slow or greedy clients. */
export async function startApiServer(app: Hono, options: ApiServerOptions): Promise<ApiServer> {
  const tls = options.tlsCert !== undefined || options.tlsKey !== undefined;
  if (tls && (!options.tlsCert || !options.tlsKey)) throw new Error("TLS needs both --tls-cert and --tls-key");
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  const common = {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
    connectionsCheckingInterval: options.checkIntervalMs ?? Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    maxHeaderSize: 16 * 1024,
  };
  const server = (
    tls
      ? createAdaptorServer({
          fetch: app.fetch,
          createServer: createHttpsServer,
          serverOptions: { ...common, cert: readFileSync(options.tlsCert!), key: readFileSync(options.tlsKey!) },
        })
      : createAdaptorServer({ fetch: app.fetch, createServer: createHttpServer, serverOptions: common })
  ) as HttpServer;
  server.maxHeadersCount = 64;
  // Sockets idle (no request at all) are closed by the same timeouts; also cap connections.
  server.maxConnections = 256;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? "https" : "http"}://${host}:${address.port}`,
    address,
    tls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
