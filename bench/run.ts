import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchSection } from "./section.js";

// Each *.bench.ts beside this file exports a default async function returning one section.
// `npm run bench -- engine` runs only the sections whose file name contains "engine".
const filter = process.argv[2];
const dir = new URL("./", import.meta.url);
const files = readdirSync(fileURLToPath(dir))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filter === undefined || f.includes(filter))
  .sort();

function printSection(section: BenchSection): void {
  const header = ["metric", "value", "target", "reference", "ok"];
  const rows = section.rows.map((r) => [
    r.metric,
    r.value,
    r.target ?? "",
    r.reference ?? "",
    r.pass === undefined ? "" : r.pass ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  console.log(`\n## ${section.title}\n`);
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of rows) console.log(line(row));
}

let failed = 0;
for (const file of files) {
  const mod = (await import(new URL(file, dir).href)) as { default: () => Promise<BenchSection> };
  const section = await mod.default();
  printSection(section);
  failed += section.rows.filter((r) => r.pass === false).length;
}
console.log(`\n${failed === 0 ? "all targets met" : `${failed} target(s) missed`} (UTC ${new Date().toISOString()})`);
