import { z } from "zod";
import { agentIdSchema } from "./record.js";

/**
 * The enrollment contract (docs/api.md), shared so the agent validates what the edge answers with
 * the same schemas the edge validates requests with.
 */

/** An Ed25519 public key as a JWK (RFC 8037): 32 bytes in unpadded base64url. */
export const ed25519PublicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "x: 32 bytes, base64url without padding"),
});

/** `POST /v1/enroll` body. */
export const enrollRequestSchema = z
  .object({
    token: z.string().min(1).max(256),
    publicKey: ed25519PublicJwkSchema,
    name: z.string().min(1).max(64).regex(/^[^\x00-\x1f\x7f]+$/, "name: no control characters"),
    hardware: z.string().max(128).optional(),
  })
  .strict();

/** `POST /v1/enroll` 201 answer. */
export const enrollResponseSchema = z.object({
  agentId: agentIdSchema,
  fleetId: z.string(),
  status: z.enum(["active", "pending"]),
  /** The `aud` of the agent's connect tokens. */
  audience: z.string(),
  /** Where to open the WebSocket (ws: or wss:). */
  connectUrl: z.string().regex(/^wss?:\/\//),
});

/** `POST /v1/enrollment-tokens` body (admin). */
export const enrollmentTokenRequestSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    maxUses: z.number().int().min(1).max(10_000).default(1),
    expiresInSeconds: z.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
    requireApproval: z.boolean().default(false),
  })
  .strict();

/** `POST /v1/enrollment-tokens` 201 answer; `token` is shown once. */
export const enrollmentTokenResponseSchema = z.object({
  id: z.string(),
  token: z.string(),
  name: z.string().nullable(),
  expiresAt: z.string(),
  maxUses: z.number().int(),
  requireApproval: z.boolean(),
  fleetId: z.string(),
});

/** Every HTTP error body of the edge. */
export const httpErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  }),
});

export type EnrollRequest = z.infer<typeof enrollRequestSchema>;
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;
export type EnrollmentTokenRequest = z.input<typeof enrollmentTokenRequestSchema>;
export type EnrollmentTokenResponse = z.infer<typeof enrollmentTokenResponseSchema>;
export type HttpError = z.infer<typeof httpErrorSchema>;
