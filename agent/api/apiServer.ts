import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { getRequestListener } from "@hono/node-server";
import { ConnectionGuard, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits, type ConnectionStats, type Refusal } from "./connectionGuard.js";
import { HostAllowList } from "./hostAllowList.js";

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
  /** Per-connection limits (connectionGuard.ts); the TLS handshake timeout is `firstRequestTimeoutMs`. */
  readonly limits?: Partial<ConnectionLimits>;
  /** Host names, besides loopback and the bound address, that requests may name in `Host`. */
  readonly allowedHosts?: readonly string[];
}

export interface ApiServer {
  readonly url: string;
  readonly address: AddressInfo;
  readonly tls: boolean;
  /** Open connections and how many the connection guard cut, by reason. */
  connections(): ConnectionStats;
  close(): Promise<void>;
}

/**
 * Starts the API: Node's HTTP(S) server with @hono/node-server's listener behind a connection guard
 * (per-connection limits) and a request gate (HTTP version and Host), plus Node's timeouts against
 * slow clients.
 */
export async function startApiServer(app: { fetch(request: Request): Response | Promise<Response> }, options: ApiServerOptions): Promise<ApiServer> {
  const tls = options.tlsCert !== undefined || options.tlsKey !== undefined;
  if (tls && (!options.tlsCert || !options.tlsKey)) throw new Error("TLS needs both --tls-cert and --tls-key");
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  const common = {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
    connectionsCheckingInterval: options.checkIntervalMs ?? Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    maxHeaderSize: 16 * 1024,
    // Strict llhttp even if NODE_OPTIONS carries --insecure-http-parser: lenient framing is how
    // requests get smuggled (test/agent/request-parsing.test.ts).
    insecureHTTPParser: false,
  };
  const hosts = new HostAllowList({
    boundHost: options.host,
    names: options.allowedHosts ?? [],
    interfaceAddresses: Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
  });
  const guard = new ConnectionGuard(limits);
  const listener = guard.wrap(getRequestListener((request: Request) => app.fetch(request)), (req) => gate(req, hosts));
  const server: HttpServer = tls
    ? createHttpsServer(
        { ...common, cert: readFileSync(options.tlsCert!), key: readFileSync(options.tlsKey!), handshakeTimeout: limits.firstRequestTimeoutMs },
        listener,
      )
    : createHttpServer(common, listener);
  server.maxHeadersCount = 64;
  // No server.maxConnections: Node would refuse new connections while idle ones hold every slot;
  // the guard evicts the oldest idle one instead.
  guard.attach(server, { tls });
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
    connections: () => guard.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

/** Refuses what no client of this API sends: HTTP other than 1.0/1.1, and a Host that is not this agent. */
function gate(req: IncomingMessage, hosts: HostAllowList): Refusal | undefined {
  if (req.httpVersion !== "1.1" && req.httpVersion !== "1.0") {
    return { status: 400, code: "unsupported_http_version", message: "the local API speaks HTTP/1.0 and HTTP/1.1 only" };
  }
  if (!hosts.allows(req.headers.host)) {
    return {
      status: 421,
      code: "host_not_allowed",
      message: "the Host header does not name this agent (loopback, its bound address, or api.allowedHosts)",
    };
  }
  return undefined;
}
