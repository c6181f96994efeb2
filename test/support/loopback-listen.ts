import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface LoopbackListener {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Cuts every open connection, then stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on a free 127.0.0.1 port and keeps the open connections, so `close` ends at once even
 * with keep-alive clients or sockets a test left hanging (a plain `server.close` waits for them).
 */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
