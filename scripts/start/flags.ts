/**
 * `npm start` flags: parsed and bounded here, nothing else. Pure (argv and env in, options out) so
 * every refusal is one line and exit code 2, never a stack trace.
 */
import { parseArgs } from "node:util";

export interface StartOptions {
  /** Edge port; `explicit` when the user chose it (then a taken port is an error, not a detour). */
  readonly port: number;
  readonly portExplicit: boolean;
  readonly agents: number;
  readonly fresh: boolean;
  readonly verbose: boolean;
  /** The data folder (absolute or relative to the checkout), or undefined for <checkout>/.data. */
  readonly data: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_AGENTS = 8;
export const MAX_AGENTS = 32;

export const USAGE = `usage: npm start [-- options]

Runs the whole fleet on this machine: the edge (wrangler dev, workerd) and N agents, supervised
(a dead agent or a dead or hung edge is restarted). Ctrl-C stops everything.

options (after \`--\` when run through npm: npm start -- --agents 3):
  --port N      edge port (default ${DEFAULT_PORT}; without --port a taken port moves to the next free one)
  --agents N    number of agents, 1–${MAX_AGENTS} (default ${DEFAULT_AGENTS})
  --fresh       start from empty state: delete the edge's state and the agents' data folders first
  --data DIR    data folder (default .data in the checkout; env BECOMINGONE_DATA)
  --verbose     agents' and the edge's logs on the console too
  --version     print the version and exit
  --help        this text`;

const OPTIONS = {
  port: { type: "string" },
  agents: { type: "string" },
  fresh: { type: "boolean" },
  data: { type: "string" },
  verbose: { type: "boolean" },
  version: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Flags npm takes for itself when given without `--` (it sets npm_config_<name> and leaves the value as a positional). */
const VALUE_FLAGS = ["port", "agents", "data"] as const;
const BOOLEAN_FLAGS = ["fresh", "verbose"] as const;

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

/**
 * Folds back what `npm start --port 9123` (no `--`) did: npm keeps `--port` as its own config
 * (npm_config_port=true) and passes "9123" on as a bare argument. One such flag with one bare value
 * is unambiguous; more is refused with the right command.
 */
function recoverNpmFlags(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const args = [...argv];
  const positionals = args.filter((a) => !a.startsWith("-"));
  const swallowed: string[] = [];
  for (const name of VALUE_FLAGS) {
    const v = env[`npm_config_${name}`];
    if (v === undefined || v === "") continue;
    if (v === "true") swallowed.push(name);
    else args.push(`--${name}=${v}`);
  }
  for (const name of BOOLEAN_FLAGS) if (env[`npm_config_${name}`] === "true") args.push(`--${name}`);
  if (swallowed.length > 0) {
    if (swallowed.length !== 1 || positionals.length !== 1) {
      throw new UsageError(`npm kept ${swallowed.map((s) => `--${s}`).join(", ")} for itself; put options after \`--\`: npm start -- --port 9123 --agents 3`);
    }
    args.splice(args.indexOf(positionals[0]!), 1, `--${swallowed[0]}=${positionals[0]}`);
  }
  return args;
}

export function parseStartFlags(argv: readonly string[], env: NodeJS.ProcessEnv = {}): StartOptions {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>["values"];
  try {
    values = parseArgs({ args: recoverNpmFlags(argv, env), options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // node:util's messages are one line but mention "positional"; say it plainly.
    const message = (err as Error).message.replace(/^Unexpected argument '([^']*)'.*$/, "unexpected argument '$1'");
    throw new UsageError(`${message} (see npm start -- --help)`);
  }
  const data = values.data ?? (env.BECOMINGONE_DATA || undefined);
  if (data !== undefined && data.trim() === "") throw new UsageError("--data must name a folder");
  return {
    port: values.port === undefined ? DEFAULT_PORT : integer("port", values.port, 1, 65535),
    portExplicit: values.port !== undefined,
    agents: values.agents === undefined ? DEFAULT_AGENTS : integer("agents", values.agents, 1, MAX_AGENTS),
    fresh: values.fresh ?? false,
    verbose: values.verbose ?? false,
    data,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
