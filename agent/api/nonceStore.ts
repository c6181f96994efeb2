import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicAsync } from "../storage/durableFile.js";

export const NONCE_FILE = "reset-nonces.json";

/** A signed request's nonce and the timestamp it was signed with (epoch ms). */
export interface UsedNonce {
  readonly nonce: string;
  readonly timestamp: number;
}

/**
 * The nonces of accepted signed requests, kept in `<data dir>/reset-nonces.json` so that a replay
 * is refused after a restart too. Only nonces whose timestamp can still be fresh are kept (older
 * ones would be refused as expired anyway), so the file holds at most the verifier's nonce cap.
 * Each write replaces the file atomically (temporary file, fsync, rename, directory fsync) off the
 * event loop; writes run one after another, each with every nonce recorded before it started.
 */
export class NonceStore {
  private readonly path: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, NONCE_FILE);
  }

  /** The nonces on disk (none if there is no file yet). A file that is not ours is an error, not an empty list. */
  load(): UsedNonce[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    let parsed: { nonces?: unknown };
    try {
      parsed = JSON.parse(text) as { nonces?: unknown };
    } catch {
      parsed = {};
    }
    if (typeof parsed !== "object" || parsed === null || !Array.isArray(parsed.nonces)) throw new Error(`${this.path} is not a nonce file (delete it to start afresh)`);
    return parsed.nonces.filter(
      (n): n is UsedNonce => typeof n === "object" && n !== null && typeof (n as UsedNonce).nonce === "string" && Number.isSafeInteger((n as UsedNonce).timestamp),
    );
  }

  /** Writes `snapshot()` durably after any write already queued; resolves once it is on disk. */
  save(snapshot: () => readonly UsedNonce[]): Promise<void> {
    const write = this.queue.then(() => writeFileAtomicAsync(this.path, JSON.stringify({ nonces: snapshot() }) + "\n"));
    this.queue = write.catch(() => {});
    return write;
  }
}
