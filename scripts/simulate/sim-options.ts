/** `npm run simulate` options: flags to a plan. Pure. */
import { parseArgs } from "node:util";

export interface BurstPlan {
  /** Send rates are multiplied by this during the burst. */
  readonly factor: number;
  readonly seconds: number;
  /** Share of the agents that burst (0–1); the others keep the normal rate. */
  readonly share: number;
  /** Seconds of normal load after the burst, measured as its own phase. */
  readonly recoverySeconds: number;
}

export interface SimOptions {
  readonly agents: number;
  /** Summaries per second per agent. */
  readonly rate: number;
  /** Records per second per agent (0: none). */
  readonly records: number;
  /** Records per `records` message. */
  readonly batch: number;
  /** Seconds of steady load measured after the ramp (the normal phase in burst mode). */
  readonly durationS: number;
  /** Seconds over which the connects are spread (0: as fast as the connect concurrency allows). */
  readonly rampS: number;
  /** An already running edge (http://…); undefined: start wrangler dev. */
  readonly edgeUrl: string | undefined;
  readonly adminToken: string | undefined;
  /** With --edge: the pid of its wrangler/workerd, to sample CPU and memory (workerd descendants included). */
  readonly edgePid: number | undefined;
  /** Fleet to use (default "default"). */
  readonly fleet: string | undefined;
  /** Seconds between pings per agent (0: none). */
  readonly pingS: number;
  /** Worker threads driving the agents (0: automatic). */
  readonly threads: number;
  readonly json: boolean;
  /** Sweep: the N values to run in turn (each on a fresh edge when the command starts it). */
  readonly sweep: readonly number[] | undefined;
  readonly burst: BurstPlan | undefined;
  /** The declared token clock rate (the real agent's default is 20 Hz). */
  readonly tokenHz: number;
}

export const DEFAULT_SWEEP = [100, 200, 300, 500, 750, 1000] as const;

export const USAGE = `npm run simulate -- [options]

  --agents N           agents (1–5000, default 100)
  --rate R             summaries per second per agent (0.1–10, default 2)
  --records S          records per second per agent (0–20, default 1; 0 = none)
  --batch K            records per records message (1–64, default 1)
  --duration D         seconds of steady load measured after the ramp (1–3600, default 30)
  --ramp SECONDS       spread the connects over this long (default 0: as fast as possible)
  --edge URL           use a running edge (http://host:port) instead of starting wrangler dev
  --admin-token T      its admin token (required with --edge; or SIMULATE_ADMIN_TOKEN)
  --edge-pid PID       with --edge: sample this process (and its workerd children) for CPU and RSS
  --fleet ID           fleet to enroll into (default: the default fleet)
  --ping SECONDS       ping every agent this often and report the round trip (default 5; 0 = off)
  --threads K          worker threads driving the agents (default: 1 per 400 agents, at most 4)
  --token-hz F         the agents' declared token clock rate (default 20, the agent's default)
  --sweep [N,N,…]      run each N in turn (default ${DEFAULT_SWEEP.join(",")}), report where it saturates
  --burst-factor F     after the normal phase, send F× the rates for --burst-seconds, then recover
  --burst-seconds B    burst length (default 10)
  --burst-share P      share of the agents that burst (0–1, default 1)
  --recovery SECONDS   normal load measured after the burst (default = --duration)
  --json               machine-readable output (stdout)
  --help`;

export class SimUsageError extends Error {}

function num(name: string, text: string | undefined, fallback: number, min: number, max: number, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new SimUsageError(`--${name} must be ${integer ? "an integer" : "a number"} in ${min}–${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

function sweepList(text: string): readonly number[] {
  if (text === "" || text === "default") return DEFAULT_SWEEP;
  const values = text.split(",").map((part) => num("sweep", part.trim(), 0, 1, 5000, true));
  if (values.length === 0) throw new SimUsageError("--sweep needs at least one N");
  return values;
}

/** Parses argv (without node and the script). Returns "help" for --help. */
export function parseSimOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): SimOptions | "help" {
  // --sweep may stand alone: give it an explicit empty value so parseArgs accepts it.
  const args = argv.flatMap((arg, i) => (arg === "--sweep" && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--")) ? ["--sweep="] : [arg]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        agents: { type: "string" },
        rate: { type: "string" },
        records: { type: "string" },
        batch: { type: "string" },
        duration: { type: "string" },
        ramp: { type: "string" },
        edge: { type: "string" },
        "admin-token": { type: "string" },
        "edge-pid": { type: "string" },
        fleet: { type: "string" },
        ping: { type: "string" },
        threads: { type: "string" },
        "token-hz": { type: "string" },
        sweep: { type: "string" },
        "burst-factor": { type: "string" },
        "burst-seconds": { type: "string" },
        "burst-share": { type: "string" },
        recovery: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new SimUsageError((err as Error).message);
  }
  if (values.help === true) return "help";
  const str = (key: string): string | undefined => (typeof values[key] === "string" ? (values[key] as string) : undefined);
  const edgeUrl = str("edge");
  if (edgeUrl !== undefined && !/^https?:\/\/[^/]+/.test(edgeUrl)) throw new SimUsageError(`--edge must be an http(s) URL, got ${JSON.stringify(edgeUrl)}`);
  const adminToken = str("admin-token") ?? env.SIMULATE_ADMIN_TOKEN;
  if (edgeUrl !== undefined && (adminToken === undefined || adminToken === "")) throw new SimUsageError("--edge needs --admin-token (or SIMULATE_ADMIN_TOKEN)");
  const fleet = str("fleet");
  if (fleet !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(fleet)) throw new SimUsageError(`--fleet must be 1–63 chars of a-z 0-9 -, got ${JSON.stringify(fleet)}`);
  const durationS = num("duration", str("duration"), 30, 1, 3600);
  const factorText = str("burst-factor");
  const burst =
    factorText === undefined
      ? undefined
      : {
          factor: num("burst-factor", factorText, 2, 1, 50),
          seconds: num("burst-seconds", str("burst-seconds"), 10, 1, 600),
          share: num("burst-share", str("burst-share"), 1, 0, 1),
          recoverySeconds: num("recovery", str("recovery"), durationS, 1, 3600),
        };
  if (burst === undefined && (str("burst-seconds") ?? str("burst-share") ?? str("recovery")) !== undefined) {
    throw new SimUsageError("--burst-seconds, --burst-share and --recovery need --burst-factor");
  }
  const sweepText = str("sweep");
  const sweep = sweepText === undefined ? undefined : sweepList(sweepText);
  if (sweep !== undefined && burst !== undefined) throw new SimUsageError("--sweep and --burst-factor do not combine");
  return {
    agents: num("agents", str("agents"), 100, 1, 5000, true),
    rate: num("rate", str("rate"), 2, 0.1, 10),
    records: num("records", str("records"), 1, 0, 20),
    batch: num("batch", str("batch"), 1, 1, 64, true),
    durationS,
    rampS: num("ramp", str("ramp"), 0, 0, 600),
    edgeUrl: edgeUrl?.replace(/\/+$/, ""),
    adminToken,
    edgePid: str("edge-pid") === undefined ? undefined : num("edge-pid", str("edge-pid"), 0, 1, 4_194_304, true),
    fleet,
    pingS: num("ping", str("ping"), 5, 0, 600),
    threads: num("threads", str("threads"), 0, 0, 16, true),
    tokenHz: num("token-hz", str("token-hz"), 20, 1, 100),
    json: values.json === true,
    sweep,
    burst,
  };
}

/** Worker threads for n agents: the given number, or one per 400 agents (at most 4). */
export function threadsFor(options: Pick<SimOptions, "threads">, agents: number): number {
  if (options.threads > 0) return Math.min(options.threads, agents);
  return Math.max(1, Math.min(4, Math.ceil(agents / 400)));
}
