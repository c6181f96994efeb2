import { bytesToBase64 } from "../../shared/protocol/index.js";
import { sendMessage, type SocketDirectory } from "./connection.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog, StoredCheckpoint } from "./global-log.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * Publishing signed checkpoints of the global log: the empty tree's when the fleet is created, then
 * one whenever the tree has grown and the last is at least CHECKPOINT_INTERVAL_MS old. Each is stored
 * with its `checkpoint.published` event in one transaction and sent to every agent that said hello.
 */
export class CheckpointCadence {
  readonly #storage: FleetStorage;
  readonly #log: GlobalLog;
  readonly #identity: FleetIdentity;
  readonly #sockets: SocketDirectory;
  #initialDone = false;

  constructor(storage: FleetStorage, log: GlobalLog, identity: FleetIdentity, sockets: SocketDirectory) {
    this.#storage = storage;
    this.#log = log;
    this.#identity = identity;
    this.#sockets = sockets;
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
      if (published !== undefined) appendOutbox(this.#storage.sql, "checkpoint.published", checkpointData(published), now);
      return published;
    });
    if (checkpoint === undefined || !announce) return;
    const message = { type: "checkpoint" as const, size: checkpoint.size, root: bytesToBase64(checkpoint.root), note: checkpoint.note };
    for (const ws of this.#sockets.helloed()) sendMessage(ws, message);
  }
}

function checkpointData(checkpoint: StoredCheckpoint): { size: number; root: string; note: string } {
  return { size: checkpoint.size, root: bytesToBase64(checkpoint.root), note: checkpoint.note };
}
