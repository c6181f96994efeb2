import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AgentConfig } from "../config/agentConfig.js";
import type { EdgeLink } from "./edgeLink.js";

/**
 * The edge link lives in agent/link (built separately). If that module exists it must export
 * `createEdgeLink(config: AgentConfig): EdgeLink | undefined` (undefined: no edge configured).
 * Loaded by path so the runtime builds and runs without it.
 */
export async function loadEdgeLink(config: AgentConfig): Promise<EdgeLink | undefined> {
  const dir = new URL("../link/", import.meta.url);
  const candidates = ["index.js", "index.ts"].map((f) => new URL(f, dir)).filter((u) => existsSync(fileURLToPath(u)));
  const url = candidates[0];
  if (!url) return undefined;
  const mod = (await import(url.href)) as { createEdgeLink?: (config: AgentConfig) => EdgeLink | undefined };
  return mod.createEdgeLink?.(config);
}
