/** Free ports, and who holds a taken one (Linux /proc; "unknown" elsewhere or for other users' processes). */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";

/** Listens on 127.0.0.1:port for a moment: the port the edge would take. 0 → the port the kernel chose. */
export function tryPort(port: number): Promise<number | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(undefined));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      const a = server.address();
      const got = typeof a === "object" && a ? a.port : undefined;
      server.close(() => done(got));
    });
  });
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the socket's inode.
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === "0A") inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** "pid 1234 (workerd)" for the process listening on the port, if this user can see it. */
export function portHolder(port: number): string | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        let cmd = "";
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(0, 3).join(" ");
        } catch {
          // gone meanwhile
        }
        return `pid ${pid}${cmd ? ` (${cmd.length > 80 ? cmd.slice(0, 77) + "…" : cmd})` : ""}`;
      }
    }
  }
  return undefined;
}

export class PortTakenError extends Error {
  override readonly name = "PortTakenError";
}

export interface PortChoice {
  readonly port: number;
  /** Set when the preferred port was taken and another one is used: say it. */
  readonly movedFrom?: { readonly port: number; readonly holder: string | undefined };
}

/**
 * The edge's port: the preferred one if free; taken and explicit → PortTakenError naming the
 * holder; taken and not explicit → the next free port above it (within 100), said by the caller.
 */
export async function chooseEdgePort(preferred: number, explicit: boolean): Promise<PortChoice> {
  if ((await tryPort(preferred)) !== undefined) return { port: preferred };
  const holder = portHolder(preferred);
  if (explicit) throw new PortTakenError(`port ${preferred} is in use${holder ? ` by ${holder}` : ""}; stop that or choose another --port`);
  for (let p = preferred + 1; p < Math.min(preferred + 100, 65536); p++) {
    if ((await tryPort(p)) !== undefined) return { port: p, movedFrom: { port: preferred, holder } };
  }
  throw new PortTakenError(`ports ${preferred}–${preferred + 99} are all in use; choose one with --port`);
}

/** Any free port (the inspector, agents' local APIs when their usual one is taken). */
export async function freePort(preferred = 0): Promise<number> {
  const p = (preferred > 0 ? await tryPort(preferred) : undefined) ?? (await tryPort(0));
  if (p === undefined) throw new PortTakenError("no free port on 127.0.0.1");
  return p;
}
