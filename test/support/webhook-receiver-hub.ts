/**
 * Many webhook receivers behind one loopback server, driven over HTTP: for tests that run inside
 * workerd (the vitest workers pool), which cannot start a server or share memory with Node. Each
 * test takes its own bin; the Worker delivers to `/hook/<bin>`, the test scripts answers and reads
 * what arrived through `/_ctl/<bin>/…`. Each bin is a real `startReceiver` receiver in this process.
 *
 *   POST /_ctl/<bin>/script   {"answers": [Answer…], "fallback"?: Answer, "secrets"?: ["whsec_…"]}
 *   GET  /_ctl/<bin>/requests → [ReceivedRequest…]
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback-listen.js";
import { startReceiver, type Answer, type Receiver } from "./webhook-receiver.js";

export interface ReceiverHub {
  readonly url: string;
  close(): Promise<void>;
}

const BIN = /^[a-z0-9-]{1,64}$/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startReceiverHub(): Promise<ReceiverHub> {
  const bins = new Map<string, Promise<Receiver>>();
  const binOf = (name: string) => {
    let bin = bins.get(name);
    if (bin === undefined) bins.set(name, (bin = startReceiver()));
    return bin;
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://hub");
    const [, area, name, action] = url.pathname.split("/");
    if (name === undefined || !BIN.test(name)) return json(res, 404, { error: "no such bin" });
    const bin = await binOf(name);
    if (area === "_ctl" && action === "script" && req.method === "POST") {
      const spec = JSON.parse((await readBody(req)).toString("utf8")) as { answers?: Answer[]; fallback?: Answer; secrets?: string[] };
      bin.script(...(spec.answers ?? []));
      if (spec.fallback !== undefined) bin.fallback = spec.fallback;
      if (spec.secrets !== undefined) bin.secrets = spec.secrets;
      return json(res, 200, { ok: true });
    }
    if (area === "_ctl" && action === "requests" && req.method === "GET") return json(res, 200, bin.requests);
    if (area !== "hook") return json(res, 404, { error: "no such route" });
    // Forward to the bin's own receiver, so it sees the exact bytes and headers and answers per its script.
    const body = await readBody(req);
    const forward = httpRequest(
      `${bin.url}${url.pathname}${url.search}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    forward.end(body);
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    close: async () => {
      await listener.close();
      await Promise.all([...bins.values()].map(async (bin) => (await bin).close()));
    },
  };
}
