import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The agent's systemd unit, as shipped for the Pi (docs/pi-install.md). */
export const AGENT_UNIT_FILE = fileURLToPath(new URL("../../docs/systemd/becomingone-agent.service", import.meta.url));

/**
 * How the systemd unit runs the agent: Node's flags (between the node binary and the script on its
 * ExecStart line) and the Environment= variables that tune Node and malloc. The agent bench runs
 * with exactly these, so it measures what a Pi runs; BENCH_NODE_OPTIONS replaces the flags there,
 * to compare Node settings.
 */
export function deployedNode(unitText = readFileSync(AGENT_UNIT_FILE, "utf8")): { flags: string[]; env: Record<string, string> } {
  const exec = /^ExecStart=\S+\s+(.*?)\s*\S+\/dist\/agent\/cli\/main\.js\s/m.exec(unitText);
  if (!exec) throw new Error(`no ExecStart=<node> [flags] …/dist/agent/cli/main.js line in ${AGENT_UNIT_FILE}`);
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=(NODE_OPTIONS|MALLOC_[A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!.trim();
  const flags = exec[1]!.split(/\s+/).filter(Boolean);
  return { flags, env };
}
