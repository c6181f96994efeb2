import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { processAlive } from "./processAlive.js";

export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
  readonly code = "data_dir_locked";
}

const LOCK_FILE = "agent.lock";
/** Lock files held by this process (a stale file with our own pid, e.g. pid 1 in a container, is not ours). */
const held = new Set<string>();

/**
 * One agent per data dir: two processes appending to the same ledger would interleave seqs. The
 * lock file holds the owner's pid; a lock left by a process that no longer exists (kill -9, power
 * loss) is taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) throw new DataDirLockedError(`${dataDir} is already in use by an agent in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(path);
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(path, "utf8").trim());
      } catch {
        // Unreadable or vanished: treat as stale.
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new DataDirLockedError(`${dataDir} is in use by another agent (pid ${owner}); stop it or choose another --data-dir`);
      }
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first; retry the exclusive create.
      }
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir} (another agent is starting at the same time?)`);
}
