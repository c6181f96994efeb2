/**
 * The dashboard's static files (dist/dashboard, which wrangler.toml's [assets] serves and without
 * which `wrangler dev` refuses to start): built with esbuild (≈ 1 s; no tsc) when missing or older
 * than any source it bundles. An up-to-date build is left alone, so a running edge elsewhere on this
 * checkout (another data folder, a test) never sees its files vanish mid-request.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildDashboard } from "../build-dashboard.js";

export class DashboardBuildError extends Error {
  override readonly name = "DashboardBuildError";
}

function newestMtime(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds when needed; returns how long the build took, or undefined when the files were up to date. */
export async function ensureDashboard(root: string): Promise<number | undefined> {
  const index = join(root, "dist", "dashboard", "index.html");
  // The bundle's inputs: the dashboard's own sources, the shared code it imports, the installed packages.
  const sources = Math.max(newestMtime(join(root, "dashboard")), newestMtime(join(root, "shared")), existsSync(join(root, "package-lock.json")) ? statSync(join(root, "package-lock.json")).mtimeMs : 0);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return undefined;
  const t0 = Date.now();
  try {
    await buildDashboard();
  } catch (err) {
    throw new DashboardBuildError(`building the dashboard failed: ${(err as Error).message.split("\n")[0]}`);
  }
  return Date.now() - t0;
}
