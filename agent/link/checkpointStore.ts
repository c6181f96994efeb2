import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicAsync } from "../storage/durableFile.js";

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

/** Durable before it resolves; written off the event loop (the auditor keeps one every few seconds). */
export function keepCheckpoint(dataDir: string, note: string): Promise<void> {
  return writeFileAtomicAsync(join(dataDir, EDGE_CHECKPOINT_FILE), note);
}
