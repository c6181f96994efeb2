import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../storage/durableFile.js";

/** Error for a secret file that exists but is unsafe or unreadable. */
export class SecretFileError extends Error {
  override readonly name = "SecretFileError";
  constructor(
    readonly code: "secret_file_permissions" | "secret_file_invalid",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a secret file, creating it with `make()` on first use. Created with mode 0600 through a
 * temporary file + fsync + rename, so a crash never leaves a half-written key. An existing file
 * readable by group or others is refused rather than silently used.
 */
export function loadOrCreateSecretFile(path: string, make: () => string): { readonly text: string; readonly created: boolean } {
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SecretFileError(
        "secret_file_permissions",
        `${path} has mode ${mode.toString(8)}; it holds a secret and must be 0600 (run: chmod 600 ${path})`,
      );
    }
    return { text: readFileSync(path, "utf8"), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const text = make();
  writeFileAtomic(path, text);
  return { text, created: true };
}
