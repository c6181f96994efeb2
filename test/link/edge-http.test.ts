/**
 * The link's HTTP client (node:http, not fetch) against a real local server that misbehaves: no
 * answer, an answer too long, an abort from the caller. A long-lived caller signal must not
 * accumulate anything per request.
 */
import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EdgeHttpError, edgeJson } from "../../agent/link/edgeHttp.js";

let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/silent") return; // never answers
    if (req.url === "/huge") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ pad: "h".repeat(2 * 1024 * 1024) }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const okDoc = z.object({ ok: z.boolean() });

/** Size of Node's internal set of signals composed over `signal` (0 when this Node has none). */
function dependants(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const set = symbol ? (signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol] : undefined;
  return set?.size ?? 0;
}

describe("edge HTTP client", () => {
  it("gives up on a silent edge after its timeout, as a transient failure", async () => {
    const err = await edgeJson(`${base}/silent`, okDoc, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeHttpError);
    expect(err).toMatchObject({ status: 0, code: "edge_unreachable", transient: true });
  });

  it("stops when the caller aborts, and leaves no listener on the caller's signal", async () => {
    const life = new AbortController();
    for (let i = 0; i < 50; i++) expect(await edgeJson(`${base}/ok`, okDoc, { signal: life.signal })).toEqual({ ok: true });
    expect(getEventListeners(life.signal, "abort")).toHaveLength(0);
    // Node 20 keeps every AbortSignal.any() built over a signal in that signal's set of dependants
    // (one entry per request, for as long as the link lives): none may be registered.
    expect(dependants(life.signal)).toBe(0);
    const pending = edgeJson(`${base}/silent`, okDoc, { signal: life.signal, timeoutMs: 60_000 });
    setTimeout(() => life.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: "edge_unreachable" });
    expect(getEventListeners(life.signal, "abort")).toHaveLength(0);
    // A signal already aborted refuses at once.
    await expect(edgeJson(`${base}/ok`, okDoc, { signal: life.signal })).rejects.toMatchObject({ code: "edge_unreachable" });
  });

  it("refuses an answer longer than its limit instead of buffering it", async () => {
    await expect(edgeJson(`${base}/huge`, z.unknown())).rejects.toMatchObject({ code: "bad_response" });
  });
});
