import { SignJWT, importJWK } from "jose";
import { bytesToBase64Url } from "./base64.js";
import { ed25519 } from "@noble/curves/ed25519.js";

/** JWT header `typ` of an agent's connect token. */
export const CONNECT_TOKEN_TYPE = "agent+jwt";
/** Accepted `alg` values: EdDSA (RFC 8037) and its fully specified name Ed25519. */
export const CONNECT_TOKEN_ALGORITHMS = ["EdDSA", "Ed25519"] as const;
/** Longest lifetime (exp − iat) the edge accepts, seconds. */
export const CONNECT_TOKEN_MAX_LIFETIME_S = 120;

export interface ConnectTokenInput {
  /** The agent's 32-byte Ed25519 secret key (seed). */
  readonly secretKey: Uint8Array;
  readonly agentId: string;
  /** The `audience` from the enrollment response. */
  readonly audience: string;
  /** Seconds of validity, 1–120 (default 60). */
  readonly lifetimeSeconds?: number;
  /** Defaults to a random UUID; must never repeat. */
  readonly jti?: string;
  /** Defaults to now. */
  readonly now?: Date;
}

/**
 * A connect token for `GET /v1/connect` (docs/protocol.md#authentication): EdDSA, typ agent+jwt,
 * kid = iss = sub = agentId, aud, iat, exp, a fresh jti. Single use: sign one per connection.
 *
 * @example
 * ```ts
 * const jwt = await signConnectToken({ secretKey, agentId, audience });
 * new WebSocket(connectUrl, { headers: { Authorization: `Bearer ${jwt}` } });
 * ```
 */
export async function signConnectToken(input: ConnectTokenInput): Promise<string> {
  const lifetime = input.lifetimeSeconds ?? 60;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > CONNECT_TOKEN_MAX_LIFETIME_S) {
    throw new RangeError(`lifetimeSeconds must be an integer in 1..${CONNECT_TOKEN_MAX_LIFETIME_S}, got ${lifetime}`);
  }
  const x = bytesToBase64Url(ed25519.getPublicKey(input.secretKey));
  const key = await importJWK({ kty: "OKP", crv: "Ed25519", x, d: bytesToBase64Url(input.secretKey) }, "EdDSA");
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ jti: input.jti ?? crypto.randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", typ: CONNECT_TOKEN_TYPE, kid: input.agentId })
    .setIssuer(input.agentId)
    .setSubject(input.agentId)
    .setAudience(input.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(key);
}
