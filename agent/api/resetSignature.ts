import type { KeyObject } from "node:crypto";
import { publicKeyFromRaw, verifyEd25519 } from "../identity/deviceKey.js";
import type { NonceStore, UsedNonce } from "./nonceStore.js";

/**
 * Ed25519-signed requests (for POST /reset), replacing the reference's fake "signature" (a
 * SHA-256 anyone could compute). Headers:
 *
 *   X-BO-Key        base64url of the signer's raw 32-byte Ed25519 public key (must be allow-listed)
 *   X-BO-Timestamp  UTC epoch milliseconds when signed (decimal)
 *   X-BO-Nonce      16–64 chars of [A-Za-z0-9_-], never reused
 *   X-BO-Signature  base64url of the 64-byte Ed25519 signature over the signed string
 *
 * Signed string (UTF-8, "\n"-separated, no trailing newline):
 *
 *   becomingone-agent-request/v1
 *   <METHOD>            e.g. POST
 *   <path>              e.g. /reset (no query string)
 *   <agent id>          this agent's id, so a signature for one agent is useless on another
 *   <timestamp>
 *   <nonce>
 */
export const SIGNED_REQUEST_CONTEXT = "becomingone-agent-request/v1";

export interface SignedRequestHeaders {
  readonly key?: string | undefined;
  readonly timestamp?: string | undefined;
  readonly nonce?: string | undefined;
  readonly signature?: string | undefined;
}

export function signedRequestString(method: string, path: string, agentId: string, timestamp: string, nonce: string): string {
  return [SIGNED_REQUEST_CONTEXT, method.toUpperCase(), path, agentId, timestamp, nonce].join("\n");
}

export type SignatureVerdict =
  | { readonly ok: true; readonly key: string }
  | {
      readonly ok: false;
      readonly status: 401 | 403 | 429;
      readonly code: "unauthorized" | "signature_invalid" | "signature_expired" | "signature_replayed" | "key_not_allowed" | "nonce_cache_full";
      readonly message: string;
    };

export interface SignatureVerifierOptions {
  readonly agentId: string;
  /** Allowed signers: base64url raw Ed25519 public keys. */
  readonly allowedKeys: readonly string[];
  /** Accept timestamps within ± this many ms of now; default 60 s. */
  readonly windowMs?: number;
  /** Most nonces remembered at once (each for 2 × window); default 10,000. */
  readonly maxNonces?: number;
  readonly now?: () => number;
  /** Where accepted nonces are kept across restarts; without one they live in memory only. */
  readonly store?: NonceStore;
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Checks signed-request headers: allow-listed key, fresh timestamp, well-formed single-use nonce,
 * valid signature. A nonce is remembered only after its signature verifies, so unauthenticated
 * traffic cannot fill the cache; with a store it is on disk before the request is accepted
 * (durable before acknowledged), and the nonces on disk are refused after a restart.
 */
export class SignedRequestVerifier {
  private readonly keys = new Map<string, KeyObject>();
  private readonly nonces = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxNonces: number;
  private readonly now: () => number;

  constructor(private readonly options: SignatureVerifierOptions) {
    for (const k of options.allowedKeys) {
      const raw = Buffer.from(k, "base64url");
      if (!B64URL.test(k) || raw.length !== 32) throw new RangeError(`allow-listed key "${k}" is not a base64url 32-byte Ed25519 public key`);
      this.keys.set(raw.toString("base64url"), publicKeyFromRaw(raw));
    }
    this.windowMs = options.windowMs ?? 60_000;
    this.maxNonces = options.maxNonces ?? 10_000;
    this.now = options.now ?? Date.now;
    const now = this.now();
    for (const used of options.store?.load() ?? []) {
      if (used.timestamp + this.windowMs >= now) this.nonces.set(used.nonce, used.timestamp + this.windowMs);
    }
  }

  /** True when any of the signature headers is present (the request means to sign). */
  static present(h: SignedRequestHeaders): boolean {
    return h.key !== undefined || h.signature !== undefined || h.timestamp !== undefined || h.nonce !== undefined;
  }

  /** Checks the headers; an accepted nonce is recorded (and persisted, with a store) before this resolves. */
  async verify(method: string, path: string, h: SignedRequestHeaders): Promise<SignatureVerdict> {
    if (!h.key || !h.timestamp || !h.nonce || !h.signature) {
      return { ok: false, status: 401, code: "unauthorized", message: "signed requests need X-BO-Key, X-BO-Timestamp, X-BO-Nonce and X-BO-Signature" };
    }
    const publicKey = this.keys.get(h.key);
    if (!publicKey) return { ok: false, status: 403, code: "key_not_allowed", message: "the signing key is not on this agent's allow-list" };
    if (!/^\d{1,16}$/.test(h.timestamp)) return { ok: false, status: 401, code: "signature_invalid", message: "X-BO-Timestamp must be epoch milliseconds" };
    const now = this.now();
    const skew = Number(h.timestamp) - now;
    if (Math.abs(skew) > this.windowMs) {
      return { ok: false, status: 401, code: "signature_expired", message: `timestamp is ${Math.round(skew / 1000)} s from now; the window is ±${this.windowMs / 1000} s` };
    }
    if (!NONCE.test(h.nonce)) return { ok: false, status: 401, code: "signature_invalid", message: "X-BO-Nonce must be 16–64 chars of [A-Za-z0-9_-]" };
    const signature = B64URL.test(h.signature) ? Buffer.from(h.signature, "base64url") : Buffer.alloc(0);
    const message = Buffer.from(signedRequestString(method, path, this.options.agentId, h.timestamp, h.nonce), "utf8");
    if (!verifyEd25519(publicKey, message, signature)) {
      return { ok: false, status: 403, code: "signature_invalid", message: "the signature does not verify for this method, path, agent, timestamp and nonce" };
    }
    this.prune(now);
    if (this.nonces.has(h.nonce)) return { ok: false, status: 401, code: "signature_replayed", message: "this nonce was already used" };
    if (this.nonces.size >= this.maxNonces) {
      return { ok: false, status: 429, code: "nonce_cache_full", message: `more than ${this.maxNonces} signed requests in the freshness window; retry later` };
    }
    // Remember the nonce until its timestamp can no longer be fresh. Reserved in memory first, so a
    // concurrent copy is refused while this one is written; if the write fails the request is not
    // accepted (the client retries with a new nonce) and the nonce stays refused.
    this.nonces.set(h.nonce, Number(h.timestamp) + this.windowMs);
    await this.options.store?.save(() => this.snapshot());
    return { ok: true, key: h.key };
  }

  private snapshot(): UsedNonce[] {
    const live: UsedNonce[] = [];
    for (const [nonce, expires] of this.nonces) live.push({ nonce, timestamp: expires - this.windowMs });
    return live;
  }

  private prune(now: number): void {
    for (const [nonce, expires] of this.nonces) if (expires < now) this.nonces.delete(nonce);
  }
}
