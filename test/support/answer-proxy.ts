/**
 * A hostile network in front of the edge's public HTTP routes, for an auditor's requests: forwards
 * every GET to the real edge and, when a rule matches, rewrites the answer's body before the client
 * sees it (an entry's bytes, a key history, a proof). The edge itself is unmodified.
 *
 * @example
 * ```ts
 * const proxy = await startAnswerProxy(edge.url);
 * proxy.rewrite = (url, body) => (url.pathname.endsWith("/keys") ? body.replace(…) : undefined);
 * ```
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./loopback-listen.js";

/** The new body for a matching answer, or undefined to pass it unchanged. */
export type Rewrite = (url: URL, body: string, status: number) => string | undefined;

export interface AnswerProxy {
  readonly url: string;
  rewrite: Rewrite | undefined;
  close(): Promise<void>;
}

export async function startAnswerProxy(edgeUrl: string): Promise<AnswerProxy> {
  const proxy: { rewrite: Rewrite | undefined } = { rewrite: undefined };
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? "/", edgeUrl);
        const answer = await fetch(url, { method: req.method ?? "GET", signal: AbortSignal.timeout(15_000) });
        const body = await answer.text();
        const changed = proxy.rewrite?.(url, body, answer.status);
        const contentType = answer.headers.get("content-type") ?? "text/plain";
        res.writeHead(answer.status, { "Content-Type": contentType });
        res.end(changed ?? body);
      } catch {
        res.destroy();
      }
    })();
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    get rewrite() {
      return proxy.rewrite;
    },
    set rewrite(rule: Rewrite | undefined) {
      proxy.rewrite = rule;
    },
    close: () => listener.close(),
  };
}
