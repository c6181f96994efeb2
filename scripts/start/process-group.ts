/**
 * Process groups: every child of `npm start` runs in its own group (spawned detached), so a
 * terminal's Ctrl-C reaches only us and we stop things in order, and so stopping a child means
 * stopping everything it started (wrangler's `workerd` outlived its parent once, at 70 % of a core).
 */
import { readdirSync, readFileSync } from "node:fs";

/** Who must know which groups run (the reaper, so they die with us even if we are SIGKILLed). */
export interface GroupWatch {
  watch(pgid: number): void;
  forget(pgid: number): void;
}

interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly pgrp: number;
}

function stat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const rest = text.slice(close + 2).split(" ");
    // rest[0] is the state (field 3); a zombie holds no resources and is its parent's to reap.
    if (rest[0] === "Z") return undefined;
    return { pid: Number(pid), comm: text.slice(text.indexOf("(") + 1, close), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Live processes in the group (Linux /proc; elsewhere only the leader, if alive). */
export function groupMembers(pgid: number): ProcStat[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    try {
      process.kill(-pgid, 0);
      return [{ pid: pgid, comm: "?", pgrp: pgid }];
    } catch {
      return [];
    }
  }
  const out: ProcStat[] = [];
  for (const pid of pids) {
    const s = stat(pid);
    if (s && s.pgrp === pgid) out.push(s);
  }
  return out;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already empty
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM to the whole group, SIGKILL to whatever of it is left after `graceMs`; resolves once no
 * member is alive (or after a further 2 s, returning the survivors, which should never happen).
 */
export async function stopGroup(pgid: number, graceMs = 5000): Promise<{ killed: boolean; survivors: number[] }> {
  signalGroup(pgid, "SIGTERM");
  const termDeadline = Date.now() + graceMs;
  while (groupMembers(pgid).length > 0 && Date.now() < termDeadline) await sleep(100);
  let killed = false;
  if (groupMembers(pgid).length > 0) {
    killed = true;
    signalGroup(pgid, "SIGKILL");
    const killDeadline = Date.now() + 2000;
    while (groupMembers(pgid).length > 0 && Date.now() < killDeadline) await sleep(50);
  }
  return { killed, survivors: groupMembers(pgid).map((m) => m.pid) };
}

/** Last resort on the way out (uncaught error, second Ctrl-C): SIGKILL, no waiting. */
export function killGroupNow(pgid: number): void {
  signalGroup(pgid, "SIGKILL");
}
