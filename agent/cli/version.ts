import { readFileSync } from "node:fs";

/**
 * The package's version, read from its package.json: the nearest one above this module that names
 * this package (two levels up from the sources, three from dist/). "unknown" if none is found.
 */
export function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "becomingone-fleet" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not there: try one level further up
    }
  }
  return "unknown";
}
