/** `--fresh`: empty state. Only while nothing runs on it: the start lock is ours, and no agent holds its folder. */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Layout } from "./paths.js";
import { processAlive } from "../../agent/runtime/processAlive.js";

export class FreshRefusedError extends Error {
  override readonly name = "FreshRefusedError";
}

/** Deletes the edge's state and every agent folder; the secrets and the logs stay. Call with the start lock held. */
export function removeState(l: Layout): void {
  if (existsSync(l.agentsDir)) {
    for (const name of readdirSync(l.agentsDir)) {
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(join(l.agentsDir, name, "agent.lock"), "utf8").trim());
      } catch {
        continue; // no lock: nothing runs there
      }
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) throw new FreshRefusedError(`--fresh: an agent (pid ${pid}) still runs on ${join(l.agentsDir, name)}; stop it first`);
    }
  }
  rmSync(l.edgeState, { recursive: true, force: true });
  rmSync(l.agentsDir, { recursive: true, force: true });
}
