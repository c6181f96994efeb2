/**
 * `npm run simulate`: many lightweight agents speaking the real protocol against one fleet's Durable
 * Object, to find its ceiling. Progress on stderr; the markdown table (or --json) on stdout. Exits 0
 * when the run (or the whole sweep) finished, 1 on failure to run, 2 on bad usage. See docs/scaling.md.
 */
import { stopOpenEdges } from "./edge-control.js";
import { renderTable } from "./report-table.js";
import { runSimulation, type SimRun } from "./run-simulation.js";
import { parseSimOptions, SimUsageError, USAGE, type SimOptions } from "./sim-options.js";

function say(line: string): void {
  process.stderr.write(`${new Date().toISOString()} simulate: ${line}\n`);
}

let options: SimOptions;
try {
  const parsed = parseSimOptions(process.argv.slice(2), process.env);
  if (parsed === "help") {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  options = parsed;
} catch (err) {
  if (!(err instanceof SimUsageError)) throw err;
  process.stderr.write(`simulate: ${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}

const stopWith = async (code: number, why: string): Promise<never> => {
  say(why);
  await stopOpenEdges();
  process.exit(code);
};
process.once("SIGINT", () => void stopWith(130, "interrupted: stopping the edge"));
process.once("SIGTERM", () => void stopWith(143, "terminated: stopping the edge"));

async function main(): Promise<void> {
  const runs: SimRun[] = [];
  let saturatedAt: number | null = null;
  for (const agents of options.sweep ?? [options.agents]) {
    say(`run: ${agents} agents, ${options.rate} summaries/s and ${options.records} records/s each, ${options.durationS} s`);
    const run = await runSimulation(options, agents, say);
    runs.push(run);
    if (options.sweep !== undefined) {
      say(run.saturated.length === 0 ? `${agents} agents hold` : `${agents} agents saturate: ${run.saturated.join("; ")}`);
      if (run.saturated.length > 0) {
        saturatedAt = agents;
        break;
      }
    }
  }
  const held = runs.filter((r) => r.saturated.length === 0).map((r) => r.agents);
  const verdict =
    options.sweep === undefined
      ? undefined
      : { saturatedAt, largestHeld: held.length === 0 ? null : Math.max(...held) };
  if (options.json) {
    process.stdout.write(JSON.stringify({ runs, ...(verdict === undefined ? {} : { sweep: verdict }) }, null, 2) + "\n");
  } else {
    let text = renderTable(runs);
    if (verdict !== undefined) {
      text += `\n\nSweep: ${verdict.saturatedAt === null ? "no N saturated" : `saturates at ${verdict.saturatedAt} agents`}; largest N that held: ${verdict.largestHeld ?? "none"}.`;
    }
    process.stdout.write(text + "\n");
  }
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopOpenEdges();
    process.exit(1);
  },
);
