/**
 * The edge under test: a `wrangler dev` this command starts (test/support/edge.ts, the harness the
 * tests use: fresh persist dir, random admin token and log key; enrollment rate limit raised so
 * 1,000 agents can enroll from one address) and stops with SIGTERM, or one already running (--edge).
 */
import { startEdge } from "../../test/support/edge.js";
import { descendantsNamed } from "./proc-sampler.js";
import type { EdgeAccess } from "./enrollment.js";

export interface EdgeUnderTest {
  readonly access: EdgeAccess;
  /** The workerd pids to sample (empty when the edge is not ours). */
  pids(): number[];
  stop(): Promise<void>;
}

/** Edges this process started and has not stopped yet (stopped on Ctrl-C / SIGTERM by main.ts). */
const open = new Set<() => Promise<void>>();

export async function stopOpenEdges(): Promise<void> {
  await Promise.all([...open].map((stop) => stop().catch(() => {})));
}

export async function openEdge(options: { edgeUrl: string | undefined; adminToken: string | undefined; fleet: string | undefined; edgePid: number | undefined }): Promise<EdgeUnderTest> {
  if (options.edgeUrl !== undefined) {
    const pid = options.edgePid;
    return {
      access: { url: options.edgeUrl, adminToken: options.adminToken ?? "", fleet: options.fleet },
      pids: () => (pid === undefined ? [] : [pid, ...descendantsNamed(pid, "workerd")]),
      stop: async () => {},
    };
  }
  const edge = await startEdge({ vars: { ENROLL_RATE_PER_MINUTE: "1000000" } });
  const stop = async () => {
    open.delete(stop);
    await edge.dispose();
  };
  open.add(stop);
  return {
    access: { url: edge.url, adminToken: edge.adminToken, fleet: options.fleet },
    pids: () => descendantsNamed(process.pid, "workerd"),
    stop,
  };
}
