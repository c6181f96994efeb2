/**
 * Builds the dashboard: esbuild bundles dashboard/main.tsx (Preact, signals, uPlot, the shared log code)
 * into one hashed script and one hashed stylesheet under dist/dashboard/assets/, writes an index.html
 * that only links them (the CSP allows no inline script or style), and a build report with gzip sizes.
 */
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "dashboard");
const assetsDir = join(outDir, "assets");

/** What the ≤ 150 KB budget is judged on: every script shipped, gzipped. */
export const JS_GZIP_BUDGET_BYTES = 150 * 1024;

interface ReportFile {
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface BuildReport {
  readonly files: ReportFile[];
  readonly totalGzipBytes: number;
  readonly jsGzipBytes: number;
}

export async function buildDashboard(): Promise<BuildReport> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: "dashboard/main.tsx" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: assetsDir,
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    // No eval, no Function(): the CSP has no 'unsafe-eval'. NODE_ENV strips Preact's dev paths.
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(root, p));
  const script = outputs.find((p) => p.endsWith(".js"));
  const style = outputs.find((p) => p.endsWith(".css"));
  if (script === undefined || style === undefined) throw new Error(`esbuild produced no script or stylesheet: ${outputs.join(", ")}`);
  const href = (p: string): string => "/" + relative(outDir, p).split("\\").join("/");
  const html = indexHtml(href(script), href(style));
  await writeFile(join(outDir, "index.html"), html);

  const files: ReportFile[] = [];
  for (const p of [join(outDir, "index.html"), ...outputs]) {
    const bytes = await readFile(p);
    files.push({ path: relative(outDir, p).split("\\").join("/"), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
  }
  const totalGzipBytes = files.reduce((sum, f) => sum + f.gzipBytes, 0);
  const jsGzipBytes = files.filter((f) => f.path.endsWith(".js")).reduce((sum, f) => sum + f.gzipBytes, 0);
  const report: BuildReport = { files, totalGzipBytes, jsGzipBytes };
  await writeFile(join(outDir, "build-report.json"), JSON.stringify(report, null, 2) + "\n");
  return report;
}

function indexHtml(scriptHref: string, styleHref: string): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    "<title>BecomingONE fleet</title>",
    // An empty data: icon keeps the browser from asking for /favicon.ico (img-src allows data:).
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${styleHref}">`,
    `<script type="module" src="${scriptHref}"></script>`,
    "</head>",
    "<body>",
    '<div id="app"></div>',
    '<noscript><p>The fleet dashboard needs JavaScript.</p></noscript>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await buildDashboard();
  for (const f of report.files) console.log(`${f.path.padEnd(36)} ${String(f.bytes).padStart(8)} B  ${String(f.gzipBytes).padStart(7)} B gzip`);
  console.log(`javascript gzipped: ${(report.jsGzipBytes / 1024).toFixed(1)} KiB (budget ${JS_GZIP_BUDGET_BYTES / 1024} KiB)`);
  if (report.jsGzipBytes > JS_GZIP_BUDGET_BYTES) {
    console.error("the dashboard's JavaScript is over its gzip budget");
    process.exitCode = 1;
  }
}
