import { LIMITS } from "../../shared/protocol/limits.js";

/**
 * The agent's own pace on one connection: 16 messages/s, bursts of 8. The edge drops every message
 * beyond 20/s (bursts of 40) per connection; a fifth below its rate and a fifth of its burst leaves
 * the edge's bucket nearly full, so network jitter that bunches up to ~30 of our messages on arrival
 * still costs no `rate_limited` (each one a lost message and a strike).
 */
export const AGENT_MESSAGES_PER_SECOND = Math.floor(LIMITS.connectionMessagesPerSecond * 0.8);
export const AGENT_MESSAGE_BURST = Math.floor(LIMITS.connectionMessageBurst / 5);

/**
 * A token bucket over every message the agent sends on a connection (pure: the caller passes the
 * time). `reserve` keeps tokens back for other messages: records take a token only when one more
 * stays for a summary or ping, so a long replay never starves the fleet of this agent's phase.
 */
export class MessageBudget {
  #tokens: number;
  #at: number | undefined;

  constructor(
    readonly perSecond: number = AGENT_MESSAGES_PER_SECOND,
    readonly burst: number = AGENT_MESSAGE_BURST,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be an integer ≥ 1, got ${burst}`);
    this.#tokens = burst;
  }

  /** Tokens available at `nowMs` (fractional). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  /** Takes one token if one is left beyond `reserve`; false (nothing taken) otherwise. */
  tryTake(nowMs: number, reserve = 0): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1 + Math.min(reserve, this.burst - 1)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until tryTake(…, reserve) would succeed (0: now). */
  waitMs(nowMs: number, reserve = 0): number {
    this.#refill(nowMs);
    const missing = 1 + Math.min(reserve, this.burst - 1) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.perSecond);
  }

  #refill(nowMs: number): void {
    // A clock that steps back (NTP) never mints tokens; it only restarts the count from here.
    if (this.#at !== undefined && nowMs > this.#at) this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#at) / 1000) * this.perSecond);
    this.#at = nowMs;
  }
}
