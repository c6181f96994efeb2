import { bytesToBase64 } from "../../shared/protocol/index.js";
import { readMeta, writeMeta } from "./fleet-identity.js";
import type { GlobalLog, StoredCheckpoint } from "./global-log.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * `checkpoint.published` for operators, rate-limited: checkpoints are signed every second while the
 * log grows, but at most one event per CHECKPOINT_EVENT_INTERVAL_MS goes out, carrying the latest
 * checkpoint (the ones in between are coalesced: a later checkpoint proves all earlier ones). The
 * last event's size and time are in `meta`, so the limit holds across evictions.
 */
export const CHECKPOINT_EVENT_INTERVAL_MS = 60_000;

export class CheckpointEvents {
  readonly #storage: FleetStorage;
  readonly #log: GlobalLog;

  constructor(storage: FleetStorage, log: GlobalLog) {
    this.#storage = storage;
    this.#log = log;
  }

  #last(): { at: number; size: number } | null {
    const at = readMeta(this.#storage.sql, "checkpoint_event_at");
    const size = readMeta(this.#storage.sql, "checkpoint_event_size");
    return at === undefined || size === undefined ? null : { at: Number(at), size: Number(size) };
  }

  #emit(checkpoint: StoredCheckpoint, now: number): void {
    appendOutbox(this.#storage.sql, "checkpoint.published", { size: checkpoint.size, root: bytesToBase64(checkpoint.root), note: checkpoint.note }, now);
    writeMeta(this.#storage.sql, "checkpoint_event_at", String(now));
    writeMeta(this.#storage.sql, "checkpoint_event_size", String(checkpoint.size));
  }

  /** A checkpoint was just stored (call inside its transaction): its event now, or later coalesced. */
  published(checkpoint: StoredCheckpoint, now: number): void {
    const last = this.#last();
    if (last === null || now - last.at >= CHECKPOINT_EVENT_INTERVAL_MS) this.#emit(checkpoint, now);
  }

  /** When a held-back checkpoint's event is due, or null when every checkpoint was announced. */
  nextDueAt(): number | null {
    const last = this.#last();
    const latest = this.#log.latestCheckpoint();
    if (last === null || latest === undefined || latest.size <= last.size) return null;
    return last.at + CHECKPOINT_EVENT_INTERVAL_MS;
  }

  /** Announces the latest checkpoint if its event is due. */
  run(now: number): void {
    this.#storage.transaction(() => {
      const due = this.nextDueAt();
      const latest = this.#log.latestCheckpoint();
      if (due !== null && now >= due && latest !== undefined) this.#emit(latest, now);
    });
  }
}
