import { decodeProtectedHeader, errors, importJWK, jwtVerify } from "jose";
import { agentIdSchema, CONNECT_TOKEN_ALGORITHMS, CONNECT_TOKEN_MAX_LIFETIME_S, CONNECT_TOKEN_TYPE } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";

const AGENT_JWT_TYPE = CONNECT_TOKEN_TYPE;
const AGENT_JWT_ALGORITHMS: string[] = [...CONNECT_TOKEN_ALGORITHMS];
const AGENT_JWT_MAX_LIFETIME_S = CONNECT_TOKEN_MAX_LIFETIME_S;
/** Clock skew tolerated on iat / nbf / exp, seconds. */
export const AGENT_JWT_CLOCK_TOLERANCE_S = 5;

export interface AgentCredential {
  readonly publicKeyX: string;
  readonly status: "pending" | "active" | "revoked";
  readonly audience: string;
}

export interface VerifiedAgentToken {
  readonly agentId: string;
  readonly jti: string;
  /** Expiry, epoch ms: how long the jti must be remembered. */
  readonly expiresAt: number;
}

const unauthorized = (code: string, message: string) => failure(401, code, message);

/**
 * Verifies an agent's connect token: header alg pinned to EdDSA/Ed25519, typ "agent+jwt", kid = an
 * enrolled agent; signature by that agent's key; iss = sub = kid; aud = the fleet's audience;
 * iat, exp, jti present; exp − iat ≤ 120 s; small clock tolerance. Every failure is a 401 with a
 * specific code. The jti's single use is enforced by the Fleet object when it accepts the socket.
 */
export async function verifyAgentJwt(
  token: string,
  lookup: (agentId: string) => Promise<AgentCredential | null>,
  now: Date = new Date(),
): Promise<Outcome<VerifiedAgentToken>> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return unauthorized("jwt_malformed", "the bearer token is not a compact JWS");
  }
  // Refuse before any key lookup: this is where alg "none" and HS256 (with the public key as a
  // shared secret) die.
  if (typeof header.alg !== "string" || !AGENT_JWT_ALGORITHMS.includes(header.alg)) {
    return unauthorized("jwt_alg_not_allowed", `JWT alg ${JSON.stringify(header.alg ?? null)} is not allowed; use EdDSA`);
  }
  if (header.typ !== AGENT_JWT_TYPE) {
    return unauthorized("jwt_type_mismatch", `JWT typ must be "${AGENT_JWT_TYPE}"`);
  }
  const kid = agentIdSchema.safeParse(header.kid);
  if (!kid.success) return unauthorized("jwt_kid_invalid", "JWT kid must be the agent id (ag_ + 32 hex digits)");
  const agentId = kid.data;
  const credential = await lookup(agentId);
  if (credential === null) return unauthorized("agent_unknown", `no agent ${agentId} is enrolled in this fleet`);
  if (credential.status === "revoked") return unauthorized("agent_revoked", `agent ${agentId} has been revoked`);
  if (credential.status === "pending") return unauthorized("agent_pending", `agent ${agentId} awaits an operator's approval`);

  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: credential.publicKeyX }, "Ed25519");
    ({ payload } = await jwtVerify(token, key, {
      algorithms: AGENT_JWT_ALGORITHMS,
      typ: AGENT_JWT_TYPE,
      issuer: agentId,
      subject: agentId,
      audience: credential.audience,
      maxTokenAge: AGENT_JWT_MAX_LIFETIME_S,
      clockTolerance: AGENT_JWT_CLOCK_TOLERANCE_S,
      requiredClaims: ["iat", "exp", "jti"],
      currentDate: now,
    }));
  } catch (err) {
    return failureFromJose(err);
  }
  const iat = payload.iat!;
  const exp = payload.exp!;
  if (exp - iat > AGENT_JWT_MAX_LIFETIME_S) {
    return unauthorized("jwt_lifetime_too_long", `JWT exp − iat is ${exp - iat} s; at most ${AGENT_JWT_MAX_LIFETIME_S} s is allowed`);
  }
  if (exp * 1000 > now.getTime() + (AGENT_JWT_MAX_LIFETIME_S + AGENT_JWT_CLOCK_TOLERANCE_S) * 1000) {
    return unauthorized("jwt_lifetime_too_long", `JWT exp is more than ${AGENT_JWT_MAX_LIFETIME_S} s ahead`);
  }
  // jose checks that jti is present, not that it is a string.
  const jti: unknown = payload.jti;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) return unauthorized("jwt_jti_invalid", "JWT jti must be a string of 1-128 characters");
  return success({ agentId, jti, expiresAt: exp * 1000 });
}

function failureFromJose(err: unknown): Outcome<never> {
  if (err instanceof errors.JWTExpired) return unauthorized("jwt_expired", "the JWT has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return unauthorized("jwt_claim_missing", `JWT claim ${err.claim} is required`);
    switch (err.claim) {
      case "aud":
        return unauthorized("jwt_audience_mismatch", "JWT aud is not this fleet's audience (see the enrollment response)");
      case "iss":
        return unauthorized("jwt_issuer_mismatch", "JWT iss must equal the agent id (kid)");
      case "sub":
        return unauthorized("jwt_subject_mismatch", "JWT sub must equal the agent id (kid)");
      case "typ":
        return unauthorized("jwt_type_mismatch", `JWT typ must be "${AGENT_JWT_TYPE}"`);
      case "nbf":
        return unauthorized("jwt_not_yet_valid", "the JWT is not valid yet (nbf in the future)");
      case "iat":
        return unauthorized("jwt_not_yet_valid", "JWT iat is in the future");
      default:
        return unauthorized("jwt_claim_invalid", `JWT claim ${err.claim} is missing or invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized("jwt_alg_not_allowed", "JWT alg is not allowed; use EdDSA");
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized("jwt_signature_invalid", "the JWT signature does not verify with the agent's enrolled key");
  }
  // A JWS whose payload is not a JSON claims set, or any other structural fault.
  return unauthorized("jwt_malformed", "the bearer token is not a well-formed JWT");
}
