/**
 * One `npm start` per data folder: two would run two edges on one Durable Object state and two
 * writers on each agent's ledger. The lock file holds the owner's pid and the kernel's start time
 * of that pid, so a lock left by a process that is gone (kill -9, power loss) — or whose pid was
 * reused by an unrelated process — is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { processAlive } from "../../agent/runtime/processAlive.js";

export class StartLockedError extends Error {
  override readonly name = "StartLockedError";
}

interface LockBody {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid apart. */
  readonly procStart: string | null;
  readonly startedAt: string;
}

/** The kernel's start time of a process, or null where /proc is missing. */
export function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function holder(path: string): LockBody | undefined {
  let body: Partial<LockBody>;
  try {
    body = JSON.parse(readFileSync(path, "utf8")) as Partial<LockBody>;
  } catch {
    return undefined; // unreadable, half-written or gone: stale
  }
  if (typeof body.pid !== "number" || !Number.isInteger(body.pid) || body.pid <= 0 || body.pid === process.pid) return undefined;
  if (!processAlive(body.pid)) return undefined;
  if (body.procStart && procStart(body.pid) !== null && procStart(body.pid) !== body.procStart) return undefined;
  return body as LockBody;
}

/** Takes the lock or throws StartLockedError naming the running owner. Returns the release function. */
export function takeStartLock(path: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      const body: LockBody = { pid: process.pid, procStart: procStart(process.pid), startedAt: new Date().toISOString() };
      writeSync(fd, JSON.stringify(body) + "\n");
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if ((JSON.parse(readFileSync(path, "utf8")) as LockBody).pid === process.pid) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = holder(path);
      if (owner) {
        throw new StartLockedError(`another npm start is running on ${dataDir} (pid ${owner.pid}, since ${owner.startedAt}); stop it first (Ctrl-C in its terminal, or kill ${owner.pid}), or use --data DIR`);
      }
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new StartLockedError(`could not lock ${dataDir}: another npm start is starting at the same moment?`);
}
