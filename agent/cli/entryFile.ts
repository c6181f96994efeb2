import { readFileSync, statSync } from "node:fs";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { UsageError } from "./command.js";

/** Largest entry file read (a record entry is at most about 66 KB; base64 a third more). */
const MAX_ENTRY_FILE_BYTES = 1 << 20;

/**
 * The bytes of a log entry from a file: raw, or with `base64` the standard base64 text of them (as
 * GET /v1/log/entries serves `leaf`; surrounding whitespace is ignored).
 * @throws UsageError when the file cannot be read or is not base64
 */
export function readEntryFile(path: string, base64: boolean): Uint8Array {
  let raw: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_ENTRY_FILE_BYTES) throw new UsageError(`${path} is ${size} bytes, limit ${MAX_ENTRY_FILE_BYTES}`);
    raw = readFileSync(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!base64) return new Uint8Array(raw);
  try {
    return decodeBase64(raw.toString("utf8").trim());
  } catch (err) {
    throw new UsageError(`${path} is not standard base64: ${err instanceof Error ? err.message : String(err)}`);
  }
}
