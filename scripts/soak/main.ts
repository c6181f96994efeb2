/**
 * `npm run soak`: a bounded fault soak against a real local edge and real agents (build first:
 * `npm run build`). Prints progress on stderr, the table of figures on stdout; exits 0 when every
 * check passed, 1 when one failed, 2 on bad usage, 3 when it could not finish (time limit, error,
 * Ctrl-C). See docs/reliability.md (Fault soak).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSoakOptions, SoakUsageError, USAGE, type SoakOptions } from "./soakOptions.js";
import { startSoak } from "./soakRun.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function say(line: string): void {
  process.stderr.write(`${new Date().toISOString()} soak: ${line}\n`);
}

let options: SoakOptions;
try {
  const parsed = parseSoakOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  options = parsed;
} catch (err) {
  if (!(err instanceof SoakUsageError)) throw err;
  process.stderr.write(`soak: ${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (!existsSync(join(ROOT, "dist", "agent", "cli", "main.js"))) {
  process.stderr.write("soak: the agents run from dist/: run `npm run build` first\n");
  process.exit(2);
}

say(
  `${options.agents} agents, ${options.kills} kills, ${options.edgeRestarts} edge restarts, a ${(options.cutMs / 60_000).toFixed(2)} min link cut; stops by itself within ${options.limitMs / 60_000} min`,
);
const soak = startSoak(options, say);
const stopWith = async (code: number, why: string): Promise<never> => {
  say(why);
  await soak.abort().catch(() => {});
  process.exit(code);
};
const limit = setTimeout(() => void stopWith(3, `time limit of ${options.limitMs / 60_000} min reached: stopped, FAIL`), options.limitMs);
process.once("SIGINT", () => void stopWith(3, "interrupted: stopped"));
process.once("SIGTERM", () => void stopWith(3, "terminated: stopped"));

soak.done.then(
  (result) => {
    clearTimeout(limit);
    process.stdout.write(result.report + "\n");
    process.exit(result.ok ? 0 : 1);
  },
  (err: unknown) => {
    clearTimeout(limit);
    say(`could not finish: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(3);
  },
);
