import { bytesToBase64 } from "../../shared/protocol/index.js";
import { sendMessage, type SocketDirectory } from "./connection.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import type { CheckpointEvents } from "./checkpoint-events.js";
import type { FleetStorage } from "./sql-database.js";

/**
 * How often agents are sent the latest checkpoint, at most. Agents cosign what they are sent
 * (docs/log.md, "Cosignatures"): one checkpoint to every agent at a time, a few seconds apart, so
 * that their audit rounds (one every 2 s, each keeping the newest checkpoint offered) all take the
 * same one and cosign the same size — an auditor's k-of-n needs k cosignatures of ONE checkpoint.
 * Sent every second instead, agents out of phase cosigned different sizes and no quorum formed.
 */
export const CHECKPOINT_BROADCAST_INTERVAL_MS = 5000;

/**
 * Publishing signed checkpoints of the global log: the empty tree's when the fleet is created, then
 * one whenever the tree has grown and the last is at least CHECKPOINT_INTERVAL_MS old. Each is stored
 * with its `checkpoint.published` event (checkpoint-events.ts: at most one a minute) in one
 * transaction. Agents that said hello are sent the latest one at most every
 * CHECKPOINT_BROADCAST_INTERVAL_MS (the public route always serves the latest).
 */
export class CheckpointCadence {
  readonly #storage: FleetStorage;
  readonly #log: GlobalLog;
  readonly #identity: FleetIdentity;
  readonly #sockets: SocketDirectory;
  readonly #events: CheckpointEvents;
  #initialDone = false;
  /** The last checkpoint sent to the agents (memory: after a wake-up the next one goes at once). */
  #broadcast: { readonly at: number; readonly size: number } | undefined;

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
    // What is signed at a wake-up counts as sent: agents get the latest in their welcome.
    const latest = this.#log.latestCheckpoint();
    if (this.#broadcast === undefined && latest !== undefined) this.#broadcast = { at: Number.NEGATIVE_INFINITY, size: latest.size };
    this.#initialDone = true;
  }

  /** When the next checkpoint is due to be signed or sent, or null (no signer, nothing new). */
  nextDueAt(now: number): number | null {
    if (this.#identity.signer() === null) return null;
    const latest = this.#log.latestCheckpoint();
    const sign = latest !== undefined && latest.size >= this.#log.size ? null : this.#log.nextCheckpointAt(now, latest);
    const send = this.#nextBroadcastAt(now);
    return sign === null ? send : send === null ? sign : Math.min(sign, send);
  }

  /** Publishes a checkpoint if one is due, and sends the latest to the agents if that is due. */
  run(now: number): void {
    const latest = this.#log.latestCheckpoint();
    const sign = latest !== undefined && latest.size >= this.#log.size ? null : this.#log.nextCheckpointAt(now, latest);
    if (sign !== null && now >= sign) this.#publish(now, true);
    const send = this.#nextBroadcastAt(now);
    if (send !== null && now >= send) this.#send(now);
  }

  /** When the latest checkpoint, if the agents have not been sent it, may go out. */
  #nextBroadcastAt(now: number): number | null {
    const latest = this.#log.latestCheckpoint();
    if (latest === undefined || (this.#broadcast !== undefined && this.#broadcast.size >= latest.size)) return null;
    return this.#broadcast === undefined ? now : Math.max(now, this.#broadcast.at + CHECKPOINT_BROADCAST_INTERVAL_MS);
  }

  #send(now: number): void {
    const latest = this.#log.latestCheckpoint();
    if (latest === undefined) return;
    this.#broadcast = { at: now, size: latest.size };
    const message = { type: "checkpoint" as const, size: latest.size, root: bytesToBase64(latest.root), note: latest.note };
    for (const ws of this.#sockets.helloed()) sendMessage(ws, message);
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
    if (this.#nextBroadcastAt(now) === now) this.#send(now);
  }
}
