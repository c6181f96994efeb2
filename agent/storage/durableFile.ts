import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

function temporaryPath(path: string): string {
  return join(dirname(path), `.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

/**
 * Replaces a file's content atomically and durably (temporary file, fsync, rename, fsync of the
 * directory), mode 0600: a crash leaves either the old or the new content, never half of one.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = temporaryPath(path);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    if (typeof content === "string") writeSync(fd, content);
    else writeSync(fd, content, 0, content.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}

/**
 * The same, off the event loop (fs/promises): for files rewritten while the token clock runs, where
 * an fsync on an SD card could otherwise stall a tick for tens of milliseconds.
 */
export async function writeFileAtomicAsync(path: string, text: string): Promise<void> {
  const tmp = temporaryPath(path);
  const file = await open(tmp, "wx", 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Makes a directory entry change (create, rename, unlink) durable. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
