import { bytesToBase64 } from "../../shared/protocol/index.js";
import { sendMessage, type SocketDirectory } from "./connection.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import type { CheckpointEvents } from "./checkpoint-events.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * Publishing signed checkpoints of the global log: the empty tree's when the fleet is created, then
 * one whenever the tree has grown and the last is at least CHECKPOINT_INTERVAL_MS old. Each is stored
 * with its `checkpoint.published` event (checkpoint-events.ts: at most one a minute) in one transaction and sent to every agent that said hello.
 */
export class CheckpointCadence {
  readonly #storage: FleetStorage;
  readonly #log: GlobalLog;
  readonly #identity: FleetIdentity;
  readonly #sockets: SocketDirectory;
  readonly #events: CheckpointEvents;
  #initialDone = false;

  constructor(storage: FleetStorage, log: GlobalLog, identity: FleetIdentity, sockets: SocketDirectory, events: CheckpointEvents) {
    this.#storage = storage;
    this.#log = log;
    this.#identity = identity;
    this.#sockets = sockets;
    this.#events = events;
  }

  /** The first checkpoint (of whatever the tree holds), once a signer and an origin exist. */
  ensureInitial(now: number): void {
    if (this.#initialDone) return;
    if (this.#identity.signer() === null || this.#identity.fixedOrigin === undefined) return;
    if (this.#log.latestCheckpoint() === undefined) this.#publish(now, false);
    this.#initialDone = true;
  }

  /** When the next checkpoint is due, or null (no signer, or nothing new to sign). */
  nextDueAt(now: number): number | null {
    if (this.#identity.signer() === null) return null;
    const latest = this.#log.latestCheckpoint();
    if (latest !== undefined && latest.size >= this.#log.size) return null;
    return this.#log.nextCheckpointAt(now, latest);
  }

  /** Publishes a checkpoint if one is due. */
  run(now: number): void {
    const due = this.nextDueAt(now);
    if (due !== null && now >= due) this.#publish(now, true);
  }

  #publish(now: number, announce: boolean): void {
    const signer = this.#identity.signer();
    if (signer === null) return;
    const checkpoint = this.#storage.transaction(() => {
      const published = this.#log.publishCheckpoint(this.#identity.origin, signer, now);
      if (published !== undefined) this.#events.published(published, now);
      return published;
    });
    if (checkpoint === undefined || !announce) return;
    const message = { type: "checkpoint" as const, size: checkpoint.size, root: bytesToBase64(checkpoint.root), note: checkpoint.note };
    for (const ws of this.#sockets.helloed()) sendMessage(ws, message);
  }
}
