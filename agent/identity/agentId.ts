import { createHash } from "node:crypto";

/**
 * The agent's id: "ag_" + the first 16 bytes of SHA-256(raw Ed25519 public key), hex. Derived from
 * the device key, so it is known from the first start (records sealed before enrollment carry the
 * same id) and a different key can never claim it.
 */
export function agentIdFromPublicKey(publicKeyRaw: Uint8Array): string {
  if (publicKeyRaw.length !== 32) throw new RangeError(`an Ed25519 public key is 32 bytes, got ${publicKeyRaw.length}`);
  return "ag_" + createHash("sha256").update(publicKeyRaw).digest("hex").slice(0, 32);
}
