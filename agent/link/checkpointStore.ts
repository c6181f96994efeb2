import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../storage/durableFile.js";

/** The last global checkpoint this agent accepted (a signed note, verbatim). */
export const EDGE_CHECKPOINT_FILE = "edge-checkpoint.note";

export function loadKeptCheckpoint(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, EDGE_CHECKPOINT_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export function keepCheckpoint(dataDir: string, note: string): void {
  writeFileAtomic(join(dataDir, EDGE_CHECKPOINT_FILE), note);
}
