/** The soak's figures as a plain text table, and the small statistics it needs. Pure. */

/** "median / max (n)" of durations in ms, shown in seconds; "–" when there are none. */
export function spread(ms: readonly number[]): string {
  if (ms.length === 0) return "–";
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const s = (v: number) => (v / 1000).toFixed(v < 10_000 ? 2 : 1);
  return `${s(median)} s median, ${s(sorted.at(-1)!)} s max (n=${ms.length})`;
}

export interface ReportSection {
  readonly title: string;
  readonly rows: readonly (readonly [string, string | number])[];
}

/** Sections of label/value rows, labels padded to one column. */
export function formatReport(sections: readonly ReportSection[]): string {
  const width = Math.max(...sections.flatMap((s) => s.rows.map(([label]) => label.length)), 10);
  const lines: string[] = [];
  for (const section of sections) {
    lines.push("", section.title, "-".repeat(section.title.length));
    for (const [label, value] of section.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
  }
  return lines.join("\n");
}
