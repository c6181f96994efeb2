import { UsageError, type Command } from "../command.js";
import { AGENT_FLAGS_USAGE, agentConfigFromArgs } from "../agentFlags.js";
import { startAgent } from "../../runtime/agent.js";
import { DataDirLockedError } from "../../runtime/dataDirLock.js";
import { loadEdgeLink } from "../../runtime/linkLoader.js";

/** `becomingone-agent run`: the long-running agent (what systemd starts). */
export const command: Command = {
  name: "run",
  summary: "run the agent: token clock, engine, ledger, local API (and the edge link if configured)",
  usage: `run ${AGENT_FLAGS_USAGE}`,
  async run(argv) {
    const config = agentConfigFromArgs(argv);
    const link = await loadEdgeLink(config);
    let agent;
    try {
      agent = await startAgent(config, link ? { link } : {});
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        process.stderr.write(`becomingone-agent run: ${err.message}\n`);
        return 1;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new UsageError(`port ${config.api.port} on ${config.api.host} is already in use (choose another with --port)`);
      if (code === "EACCES" || code === "EPERM") throw new UsageError(`no permission: ${(err as Error).message}`);
      throw err;
    }
    // One line on stdout for scripts (e.g. tests and npm start) to learn where the API is.
    process.stdout.write(JSON.stringify({ event: "ready", agentId: agent.agentId, api: agent.api?.url ?? null, dataDir: config.dataDir }) + "\n");
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`becomingone-agent: second ${signal}, exiting without a clean shutdown\n`);
        process.exit(1);
      }
      void agent.stop(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    await agent.stopped;
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    // stdin may still hold the event loop open.
    if (config.sources.stdin) process.stdin.destroy();
    return 0;
  },
};
