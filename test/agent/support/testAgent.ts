import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveAgentConfig, mergeLayers } from "../../../agent/config/agentConfig.js";
import { startAgent, type AgentHandle } from "../../../agent/runtime/agent.js";

export interface TestAgent {
  readonly handle: AgentHandle;
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Starts a real agent in-process on a free loopback port with a fresh data dir. */
export async function startTestAgent(overrides: Record<string, unknown> = {}): Promise<TestAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), "bo-agent-"));
  const config = resolveAgentConfig({
    flags: mergeLayers({ dataDir, hz: 50, api: { port: 0 }, logLevel: "error" }, overrides),
  });
  const handle = await startAgent(config, { log: () => {} });
  return {
    handle,
    url: handle.api!.url,
    token: readFileSync(join(dataDir, "api-token"), "utf8").trim(),
    dataDir,
    async stop() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
