/**
 * Checkpoints of the agent's own log (docs/log.md, docs/link.md "Agent checkpoints"): a C2SP
 * checkpoint — origin `agentLogOrigin(fleet origin, agentId)`, size = durable records, root = the
 * ledger's RFC 6962 root at that size — signed as a C2SP note with ONE Ed25519 signature by the
 * device key under that same name. The signing is here; when to sign and when to send is the
 * schedule below (pure: the caller passes the time). The session (edgeSession.ts) does the I/O.
 *
 * Imports are file by file (never the shared barrels), so `run` keeps node:crypto as its only
 * Ed25519 (test/agent/run-imports.test.ts).
 */
import { signCheckpoint } from "../../shared/checkpoint/signed-checkpoint.js";
import { formatVerifierKey, keyId, type NoteSigner } from "../../shared/note/key-text.js";
import type { DeviceKey } from "../identity/deviceKey.js";

/** Least time between two signed agent checkpoints, and between two sent: the edge accepts one per 5 s. */
export const AGENT_CHECKPOINT_INTERVAL_MS = 5000;
/**
 * Sends are spaced by the interval plus this margin: two sends exactly 5 s apart can arrive closer
 * (network jitter) and be refused with `rate_limited` (no strike, but a wasted round).
 */
export const AGENT_CHECKPOINT_SEND_MARGIN_MS = 250;
/** The longest wait an edge's `rate_limited` (`details.retryAfterMs`) can impose on the next send. */
const RETRY_AFTER_MAX_MS = 60_000;

export interface AgentCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The signed note, as sent in `agent_checkpoint`. */
  readonly note: string;
}

/** The device key as a note signer under `name` (Ed25519, type 0x01). */
export function deviceNoteSigner(name: string, key: Pick<DeviceKey, "publicKeyRaw" | "sign">): NoteSigner {
  return { name, keyId: keyId(name, key.publicKeyRaw), verifierKey: formatVerifierKey(name, key.publicKeyRaw), sign: (message) => key.sign(message) };
}

/**
 * Signs the agent checkpoint `origin / size / root` with the device key (key name = origin).
 * @throws CheckpointError, NoteError for an origin that is not a valid name
 */
export function signAgentCheckpoint(origin: string, size: number, root: Uint8Array, key: Pick<DeviceKey, "publicKeyRaw" | "sign">): AgentCheckpoint {
  const note = signCheckpoint({ origin, size, root }, [deviceNoteSigner(origin, key)]);
  return { origin, size, root, note };
}

/**
 * When to sign and when to send (one per link: the pacing holds across reconnects).
 * - Sign when the durable size grew past the last signed one, or once after each `welcome`, never
 *   sooner than `intervalMs` after the last signing; never for an empty log (nothing to attest).
 * - Send the newest signed one once the edge holds its records (acks reach its size), never sooner
 *   than `intervalMs` + margin after the last send; a newer one replaces one not yet sent.
 * - The edge cannot take it yet (`checkpoint_ahead`, `rate_limited`): send it again after the
 *   interval, unless a newer one replaced it meanwhile.
 */
export class AgentCheckpointSchedule {
  #lastSignAt: number | undefined;
  #signedSize = 0;
  #afterWelcome = false;
  #pending: AgentCheckpoint | undefined;
  #sent: AgentCheckpoint | undefined;
  #lastSentAt: number | undefined;
  #notBefore = 0;

  constructor(
    readonly intervalMs: number = AGENT_CHECKPOINT_INTERVAL_MS,
    readonly sendMarginMs: number = AGENT_CHECKPOINT_SEND_MARGIN_MS,
  ) {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
    if (!(sendMarginMs >= 0) || !Number.isFinite(sendMarginMs)) throw new RangeError(`sendMarginMs must be ≥ 0, got ${sendMarginMs}`);
  }

  /** The newest signed checkpoint not sent yet. */
  get pending(): AgentCheckpoint | undefined {
    return this.#pending;
  }
  /** The last one sent (what an error from the edge refers to). */
  get lastSent(): AgentCheckpoint | undefined {
    return this.#sent;
  }

  /** A session was welcomed: sign once more (the edge may never have seen ours), and send at once when due. */
  welcomed(): void {
    this.#afterWelcome = true;
    this.#notBefore = 0;
  }

  /** Milliseconds until a checkpoint of `durable` records should be signed (0: now), or undefined: nothing to sign. */
  signDelay(nowMs: number, durable: number): number | undefined {
    if (durable <= 0) return undefined;
    if (!this.#afterWelcome && durable <= this.#signedSize) return undefined;
    if (this.#lastSignAt === undefined || nowMs < this.#lastSignAt) return 0;
    return Math.max(0, this.#lastSignAt + this.intervalMs - nowMs);
  }

  /** `checkpoint` was signed at `nowMs`: it replaces any unsent one. */
  signed(nowMs: number, checkpoint: AgentCheckpoint): void {
    this.#lastSignAt = nowMs;
    this.#signedSize = Math.max(this.#signedSize, checkpoint.size);
    this.#afterWelcome = false;
    this.#pending = checkpoint;
  }

  /** The checkpoint to send now, when the edge holds records below `ackedNext`; undefined: nothing (yet). */
  sendable(nowMs: number, ackedNext: number): AgentCheckpoint | undefined {
    const p = this.#pending;
    if (p === undefined || p.size > ackedNext || this.sendDelay(nowMs) > 0) return undefined;
    return p;
  }

  /** Milliseconds until the pacing lets the next one go (0: now); acks are not counted here. */
  sendDelay(nowMs: number): number {
    const paced = this.#lastSentAt === undefined || nowMs < this.#lastSentAt ? 0 : this.#lastSentAt + this.intervalMs + this.sendMarginMs - nowMs;
    return Math.max(0, paced, this.#notBefore - nowMs);
  }

  markSent(nowMs: number, checkpoint: AgentCheckpoint): void {
    if (this.#pending === checkpoint) this.#pending = undefined;
    this.#sent = checkpoint;
    this.#lastSentAt = nowMs;
  }

  /**
   * The edge could not take the last one yet: it goes again after `delayMs` (default the interval;
   * an edge's `retryAfterMs` is bounded to 0…60 s) unless a newer one replaced it.
   */
  retryLater(nowMs: number, delayMs: number = this.intervalMs): void {
    if (this.#pending === undefined && this.#sent !== undefined) this.#pending = this.#sent;
    const delay = Number.isFinite(delayMs) ? Math.min(Math.max(delayMs, 0), RETRY_AFTER_MAX_MS) : this.intervalMs;
    this.#notBefore = nowMs + delay;
  }

  /** The edge refused the last one for good (bad_checkpoint, agent_log_inconsistent): it is never resent. */
  refused(): void {
    if (this.#pending === this.#sent) this.#pending = undefined;
    this.#sent = undefined;
  }
}
