import { isIP } from "node:net";

/**
 * Which edge addresses the agent may talk to in plaintext. The enrollment token, every connect JWT
 * and every record cross this link, so plain http/ws is allowed only where nobody can listen in:
 * loopback (a local edge in development), or where the operator has said so explicitly
 * (`--allow-plaintext-edge`, a lab LAN). A TLS edge that points the agent at a plaintext socket is
 * a downgrade and is refused whatever the setting.
 */
export class EdgeTransportError extends Error {
  override readonly name = "EdgeTransportError";
  readonly code = "plaintext_edge_refused";
}

/** localhost, 127.0.0.0/8 and ::1 (also 127/8 mapped into IPv6, which WHATWG URLs write as ::ffff:7fxx:xxxx). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(host);
  return false;
}

const PLAINTEXT = new Set(["http:", "ws:"]);

/** Throws EdgeTransportError when `url` is plaintext to a host that is not loopback and plaintext is not allowed. */
export function assertEdgeTransport(url: string, allowPlaintext: boolean): void {
  const u = new URL(url);
  if (!PLAINTEXT.has(u.protocol) || allowPlaintext || isLoopbackHost(u.hostname)) return;
  throw new EdgeTransportError(
    `refusing plaintext ${u.protocol}// to ${u.host}: the enrollment token, JWTs and records would cross the network unencrypted; ` +
      "use https://, or pass --allow-plaintext-edge on a network you trust",
  );
}

/** Throws EdgeTransportError when the edge, reached over TLS, hands out a plaintext socket URL. */
export function assertNoDowngrade(base: string, connectUrl: string): void {
  if (new URL(base).protocol === "https:" && new URL(connectUrl).protocol !== "wss:") {
    throw new EdgeTransportError(`the edge at ${new URL(base).host} (https) gave a plaintext socket URL ${connectUrl}; refusing the downgrade`);
  }
}
