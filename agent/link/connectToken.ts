import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { DeviceKey } from "../identity/deviceKey.js";

/** Lifetime of a connect JWT; the edge refuses more than 120 s. */
export const CONNECT_JWT_LIFETIME_S = 60;

/**
 * A fresh connect JWT, signed by the device key (docs/protocol.md#authentication): EdDSA,
 * typ agent+jwt, kid = iss = sub = the agent id, aud = the fleet audience, a random single-use jti.
 * Made anew for every connection attempt, so a captured token is useless after one use or a minute.
 */
export async function connectJwt(key: DeviceKey, agentId: string, audience: string, nowMs: number = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", typ: "agent+jwt", kid: agentId })
    .setIssuer(agentId)
    .setSubject(agentId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CONNECT_JWT_LIFETIME_S)
    .sign(key.privateKey);
}
