/**
 * Samples the edge's processes from /proc once a second: CPU (utime + stime of /proc/PID/stat) and
 * resident memory (VmRSS of /proc/PID/status). The edge started by the command is found as the
 * `workerd` processes descending from this process, so other Workers on the machine never count.
 */
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

export interface ProcSample {
  /** Epoch ms of the reading. */
  readonly t: number;
  /** CPU seconds the sampled processes used since the previous reading (pids present in both). */
  readonly cpuDeltaS: number;
  /** Sum of their resident set, bytes. */
  readonly rssBytes: number;
  readonly pids: readonly number[];
}

function clockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

const TICKS = clockTicks();

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, seconds. */
  readonly cpuS: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may contain spaces: split after the last ')'.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // fields[0] is state (field 3); ppid is field 4, utime 14, stime 15.
    return { pid, ppid: Number(fields[1]), comm, cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined;
  }
}

function readRss(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

function allStats(): Stat[] {
  const stats: Stat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/** The pids named `comm` among the descendants of root. */
export function descendantsNamed(root: number, comm: string): number[] {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of children.get(pid) ?? []) {
      if (child.comm === comm) found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

export class ProcSampler {
  readonly samples: ProcSample[] = [];
  readonly #find: () => number[];
  #last = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;

  /** `find` returns the pids to sample now (looked up again every reading). */
  constructor(find: () => number[]) {
    this.#find = find;
  }

  start(everyMs = 1000): void {
    this.read();
    this.#timer = setInterval(() => this.read(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.read();
  }

  read(): void {
    const pids = this.#find();
    const now = new Map<number, number>();
    let delta = 0;
    let rss = 0;
    for (const pid of pids) {
      const stat = readStat(pid);
      if (stat === undefined) continue;
      now.set(pid, stat.cpuS);
      const before = this.#last.get(pid);
      if (before !== undefined) delta += Math.max(0, stat.cpuS - before);
      rss += readRss(pid);
    }
    this.#last = now;
    this.samples.push({ t: Date.now(), cpuDeltaS: delta, rssBytes: rss, pids: [...now.keys()] });
  }
}
