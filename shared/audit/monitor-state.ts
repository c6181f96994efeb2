/**
 * The monitor's memory between runs: the last global checkpoint it verified (the signed note and
 * what it says), as a small JSON file. Pure rules; the CLI reads and writes the file.
 *
 *   { "version": 1, "origin": "...", "size": 12, "root": "<base64>", "note": "<signed note>", "keptAt": "…Z" }
 *
 * The note is re-verified with the pinned log key on every run, so a state file edited by hand (a
 * forged root or size) fails `consistency` rather than moving the monitor's trust.
 */
import { decodeBase64 } from "../encoding/base64.js";
import type { KeptCheckpoint } from "./audit-steps.js";

export const MONITOR_STATE_VERSION = 1;
const MAX_STATE_CHARS = 70_000;

export class MonitorStateError extends Error {
  override readonly name = "MonitorStateError";
}

/**
 * Parses a state file's text.
 * @throws MonitorStateError when it is not a state of this version
 */
export function parseKeptState(text: string): KeptCheckpoint {
  if (text.length > MAX_STATE_CHARS) throw new MonitorStateError(`state is over ${MAX_STATE_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MonitorStateError("state is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new MonitorStateError("state is not a JSON object");
  const o = value as Record<string, unknown>;
  if (o["version"] !== MONITOR_STATE_VERSION) throw new MonitorStateError(`state version is not ${MONITOR_STATE_VERSION}`);
  const { origin, size, root, note } = o;
  if (typeof origin !== "string" || origin.length === 0 || origin.length > 1024) throw new MonitorStateError("state origin is not a string");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw new MonitorStateError("state size is not a non-negative integer");
  if (typeof root !== "string") throw new MonitorStateError("state root is not a string");
  try {
    if (decodeBase64(root).length !== 32) throw new Error("length");
  } catch {
    throw new MonitorStateError("state root is not 32 bytes of standard base64");
  }
  if (typeof note !== "string" || note.length === 0) throw new MonitorStateError("state note is not a string");
  return { origin, size, root, note };
}

export function formatKeptState(kept: KeptCheckpoint, now: number): string {
  return `${JSON.stringify({ version: MONITOR_STATE_VERSION, ...kept, keptAt: new Date(now).toISOString() }, null, 2)}\n`;
}

/** How the latest checkpoint relates to the kept one, before any proof is fetched. */
export type KeptComparison =
  | { readonly kind: "consistent" }
  | { readonly kind: "extends"; readonly from: number; readonly to: number }
  | { readonly kind: "fork"; readonly reason: string };

export function compareWithKept(kept: KeptCheckpoint, latest: { origin: string; size: number; root: string }): KeptComparison {
  if (kept.origin !== latest.origin) return { kind: "fork", reason: `the kept checkpoint is of log ${JSON.stringify(kept.origin)}, the latest of ${JSON.stringify(latest.origin)}` };
  if (latest.size < kept.size) return { kind: "fork", reason: `the log shrank: kept size ${kept.size}, latest ${latest.size}` };
  if (latest.size === kept.size) {
    return latest.root === kept.root ? { kind: "consistent" } : { kind: "fork", reason: `two roots for size ${kept.size}: kept ${kept.root}, latest ${latest.root}` };
  }
  // The empty tree is a prefix of every tree (and RFC 9162 has no proof from it).
  if (kept.size === 0) return { kind: "consistent" };
  return { kind: "extends", from: kept.size, to: latest.size };
}
