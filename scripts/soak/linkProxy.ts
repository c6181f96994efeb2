/**
 * A loopback TCP proxy between the agents and the edge, so the soak can cut the network the way a
 * real one fails: `cut()` makes every connection go silent — bytes are no longer read or forwarded,
 * nothing is closed or reset — and new connections are accepted but never reach the edge. The agents
 * must notice by themselves (ping silence, handshake and HTTP timeouts) and keep sealing meanwhile.
 * `restore()` resets what was held (a NAT that lost its state answers the next packet with a RST)
 * and forwards again. The upstream port is read per connection, so an edge restarted on another
 * port is still reached.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface LinkProxy {
  /** http://127.0.0.1:<port>: what the agents are given as their edge. */
  readonly url: string;
  readonly cut: boolean;
  /** Connections held silent during the cut so far (closed by their client or at restore). */
  readonly heldDuringCut: number;
  /** Connections forwarded since the start. */
  readonly forwarded: number;
  cutLink(): void;
  restoreLink(): void;
  close(): Promise<void>;
}

/** More held silent connections than this and the oldest is reset: a cut must not pile up sockets. */
const MAX_HELD = 256;

export async function startLinkProxy(upstreamPort: () => number): Promise<LinkProxy> {
  let cut = false;
  let heldDuringCut = 0;
  let forwarded = 0;
  /** Every client socket with its upstream (if any), to silence or reset them at once. */
  const pairs = new Map<Socket, Socket | undefined>();

  const drop = (client: Socket): void => {
    const upstream = pairs.get(client);
    pairs.delete(client);
    client.destroy();
    upstream?.destroy();
  };

  /** Silence: stop reading both ways (the kernel buffers fill, then the senders' writes wait). */
  const silence = (client: Socket): void => {
    const upstream = pairs.get(client);
    client.unpipe();
    upstream?.unpipe();
    client.pause();
    upstream?.pause();
  };

  const hold = (client: Socket): void => {
    heldDuringCut++;
    silence(client);
    if (pairs.size > MAX_HELD) drop(pairs.keys().next().value!);
  };

  const server: Server = createServer((client) => {
    client.on("error", () => drop(client));
    client.on("close", () => drop(client));
    pairs.set(client, undefined);
    if (cut) return hold(client);
    forwarded++;
    const upstream = createConnection({ host: "127.0.0.1", port: upstreamPort() });
    pairs.set(client, upstream);
    upstream.on("error", () => drop(client));
    upstream.on("close", () => drop(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    get cut() {
      return cut;
    },
    get heldDuringCut() {
      return heldDuringCut;
    },
    get forwarded() {
      return forwarded;
    },
    cutLink() {
      cut = true;
      heldDuringCut = 0;
      for (const client of [...pairs.keys()]) hold(client);
    },
    restoreLink() {
      cut = false;
      for (const client of [...pairs.keys()]) drop(client);
    },
    async close() {
      for (const client of [...pairs.keys()]) drop(client);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
