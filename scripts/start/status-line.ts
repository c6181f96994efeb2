/** One status line a few times a minute, so a quiet terminal still shows whether the fleet is alive. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fleetSummary, type Admin } from "./admin.js";
import type { AgentProcess } from "./agent-process.js";
import type { EdgeProcess } from "./edge-process.js";
import type { Say } from "./say.js";

export const STATUS_EVERY_MS = 20_000;

function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  } catch {
    // no logs yet
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

export async function statusLine(agents: readonly AgentProcess[], edge: EdgeProcess, admin: Admin, logsDir: string): Promise<string> {
  const up = agents.filter((a) => a.running).length;
  const restarts = agents.reduce((s, a) => s + a.restarts, 0);
  const fleet = edge.state === "healthy" ? await fleetSummary(admin) : undefined;
  const mesh = fleet ? `mesh r = ${fleet.r.toFixed(2)} over ${fleet.n}, ${fleet.online} online${fleet.quarantined ? `, ${fleet.quarantined} quarantined` : ""}; global log ${fleet.logSize} records` : "fleet: no answer";
  const time = new Date().toISOString().slice(11, 19) + "Z";
  return `[${time}] agents ${up}/${agents.length} up${restarts ? ` (${restarts} restarts)` : ""} · edge ${edge.state}${edge.restarts ? ` (${edge.restarts} restarts)` : ""} · ${mesh} · logs ${mb(dirBytes(logsDir))}`;
}

export function startStatusLine(agents: readonly AgentProcess[], edge: EdgeProcess, admin: Admin, logsDir: string, say: Say): () => void {
  const timer = setInterval(() => {
    void statusLine(agents, edge, admin, logsDir).then(say, () => {});
  }, STATUS_EVERY_MS);
  return () => clearInterval(timer);
}
