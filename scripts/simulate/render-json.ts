/**
 * Renders saved `--json` reports as the markdown table: `npx tsx scripts/simulate/render-json.ts a.json b.json …`
 * (e.g. to put several runs in one table for docs/scaling.md).
 */
import { readFileSync } from "node:fs";
import { renderTable, type RunSummary } from "./report-table.js";

type Saved = RunSummary & { readonly options?: { readonly rampS?: number } };
const runs = process.argv
  .slice(2)
  .flatMap((file) => (JSON.parse(readFileSync(file, "utf8")) as { runs: Saved[] }).runs)
  // Reports saved before rampS was a top-level field carry it in options.
  .map((run) => ({ ...run, rampS: run.rampS ?? run.options?.rampS ?? 0 }));
process.stdout.write(renderTable(runs) + "\n");
