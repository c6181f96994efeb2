/** `npm run soak` options: flags to a plan, with defaults that meet the soak's targets. Pure. */
import { parseArgs } from "node:util";

export interface SoakOptions {
  /** Agent processes streaming at once. */
  readonly agents: number;
  /** kill -9 trials in total, spread evenly over the agents: half while connected, half during the cut. */
  readonly kills: number;
  /** Edge (wrangler dev) restarts while the agents stream and are being killed. */
  readonly edgeRestarts: number;
  /** How long the link is cut, ms. */
  readonly cutMs: number;
  /** Hard limit on the whole run, ms: past it the soak stops everything and fails. */
  readonly limitMs: number;
  /** Keep the data dirs (agents' ledgers, the edge's SQLite) after the run. */
  readonly keep: boolean;
  readonly quick: boolean;
}

export const DEFAULT_OPTIONS: SoakOptions = {
  agents: 4,
  kills: 104,
  edgeRestarts: 4,
  cutMs: 10 * 60_000,
  limitMs: 40 * 60_000,
  keep: false,
  quick: false,
};

/** --quick: what the test runs so the script cannot rot — every phase, a few seconds each. */
export const QUICK_OPTIONS: SoakOptions = {
  agents: 2,
  kills: 6,
  edgeRestarts: 1,
  cutMs: 15_000,
  limitMs: 5 * 60_000,
  keep: false,
  quick: true,
};

export const USAGE = `npm run soak -- [options]

  --agents N         agent processes (1–16, default ${DEFAULT_OPTIONS.agents})
  --kills N          kill -9 trials in total (default ${DEFAULT_OPTIONS.kills}; half connected, half during the cut)
  --edge-restarts N  edge restarts while the agents stream (default ${DEFAULT_OPTIONS.edgeRestarts})
  --cut-minutes M    how long the link is cut (default ${DEFAULT_OPTIONS.cutMs / 60_000})
  --limit-minutes M  stop and fail past this (default ${DEFAULT_OPTIONS.limitMs / 60_000})
  --quick            ${QUICK_OPTIONS.agents} agents, ${QUICK_OPTIONS.kills} kills, ${QUICK_OPTIONS.edgeRestarts} restart, a ${QUICK_OPTIONS.cutMs / 1000} s cut (other flags override)
  --keep             keep the data dirs afterwards (their paths are printed)
  --help`;

export class SoakUsageError extends Error {}

function count(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new SoakUsageError(`--${name} must be an integer in ${min}–${max}, got ${JSON.stringify(text)}`);
  return n;
}

function minutes(name: string, text: string | undefined, fallbackMs: number, min: number, max: number): number {
  if (text === undefined) return fallbackMs;
  const m = Number(text);
  if (!Number.isFinite(m) || m < min || m > max) throw new SoakUsageError(`--${name} must be a number of minutes in ${min}–${max}, got ${JSON.stringify(text)}`);
  return Math.round(m * 60_000);
}

/** The options for these arguments, or "help"; throws SoakUsageError on a bad flag. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        agents: { type: "string" },
        kills: { type: "string" },
        "edge-restarts": { type: "string" },
        "cut-minutes": { type: "string" },
        "limit-minutes": { type: "string" },
        quick: { type: "boolean" },
        keep: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new SoakUsageError((err as Error).message);
  }
  if (parsed.help === true) return "help";
  const base = parsed.quick === true ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  return {
    agents: count("agents", parsed.agents, base.agents, 1, 16),
    kills: count("kills", parsed.kills, base.kills, 0, 10_000),
    edgeRestarts: count("edge-restarts", parsed["edge-restarts"], base.edgeRestarts, 0, 100),
    cutMs: minutes("cut-minutes", parsed["cut-minutes"], base.cutMs, 0.1, 120),
    limitMs: minutes("limit-minutes", parsed["limit-minutes"], base.limitMs, 1, 600),
    keep: parsed.keep === true,
    quick: parsed.quick === true,
  };
}
