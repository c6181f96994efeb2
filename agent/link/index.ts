import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AgentConfig } from "../config/agentConfig.js";
import type { EdgeLink } from "../runtime/edgeLink.js";
import { EDGE_IDENTITY_FILE } from "./edgeIdentity.js";
import { EdgeLinkClient } from "./edgeLinkClient.js";

export { EdgeLinkClient, type EdgeLinkOptions } from "./edgeLinkClient.js";
export { enrollWithEdge, type EnrollOptions } from "./enrollment.js";
export { loadEdgeIdentity, saveEdgeIdentity, edgeHttpBase, edgeRoute, EDGE_IDENTITY_FILE, type EdgeIdentity } from "./edgeIdentity.js";
export { EDGE_CHECKPOINT_FILE } from "./checkpointStore.js";
export { connectJwt } from "./connectToken.js";
export { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";

/**
 * The runtime's entry point (agent/runtime/linkLoader.ts): a link when an edge is configured
 * (--edge, BECOMINGONE_EDGE_URL or BECOMINGONE_EDGE) or the agent is already enrolled; undefined
 * otherwise. BECOMINGONE_LINK_BACKOFF_MAX_MS caps the reconnect delay (default 10 000 ms).
 */
export function createEdgeLink(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): EdgeLink | undefined {
  const edgeUrl = config.edge.url ?? (env.BECOMINGONE_EDGE || undefined);
  const enrolled = existsSync(join(config.dataDir, EDGE_IDENTITY_FILE));
  if (edgeUrl === undefined && !enrolled) return undefined;
  const cap = Number(env.BECOMINGONE_LINK_BACKOFF_MAX_MS);
  return new EdgeLinkClient({
    edgeUrl,
    enrollToken: config.edge.enrollToken,
    ...(Number.isFinite(cap) && cap >= 250 ? { backoff: { baseMs: 250, capMs: cap } } : {}),
  });
}
