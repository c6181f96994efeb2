/** A test agent's identity: an Ed25519 key, its JWK, connect JWTs and sealed records. */
import { ed25519 } from "@noble/curves/ed25519.js";
import { SignJWT, importJWK } from "jose";
import { randomUUID } from "node:crypto";
import { sealRecord } from "../../shared/log/index.js";
import { bytesToBase64Url, recordToWire, type WireRecord } from "../../shared/protocol/index.js";

export interface TestAgent {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly jwk: { kty: "OKP"; crv: "Ed25519"; x: string };
}

export function newAgentKey(): TestAgent {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, jwk: { kty: "OKP", crv: "Ed25519", x: bytesToBase64Url(publicKey) } };
}

export interface JwtOverrides {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string;
  readonly kid?: string;
  readonly iat?: number;
  readonly exp?: number;
  readonly nbf?: number;
  readonly jti?: string;
  readonly typ?: string;
}

/** A connect JWT signed with the agent's own key (EdDSA), claims overridable for refusal tests. */
export async function connectJwt(agent: TestAgent, agentId: string, audience: string, overrides: JwtOverrides = {}): Promise<string> {
  const key = await importJWK({ ...agent.jwk, d: bytesToBase64Url(agent.secretKey) }, "EdDSA");
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ jti: overrides.jti ?? randomUUID(), ...(overrides.nbf === undefined ? {} : { nbf: overrides.nbf }) })
    .setProtectedHeader({ alg: "EdDSA", typ: overrides.typ ?? "agent+jwt", kid: overrides.kid ?? agentId })
    .setIssuer(overrides.iss ?? agentId)
    .setSubject(overrides.sub ?? agentId)
    .setAudience(overrides.aud ?? audience)
    .setIssuedAt(overrides.iat ?? now)
    .setExpirationTime(overrides.exp ?? now + 60);
  return jwt.sign(key);
}

/** A record sealed (signed) by the given key, on the wire. */
export function sealedRecord(agent: TestAgent, agentId: string, seq: number, payload: unknown = { seq }): WireRecord {
  return recordToWire(
    sealRecord({ agentId, seq, kind: "memory", timestamp: Date.now(), payloadJson: JSON.stringify(payload) }, agent.secretKey),
  );
}
