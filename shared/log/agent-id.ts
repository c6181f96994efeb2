import { sha256 } from "@noble/hashes/sha2.js";
import { encodeHex } from "../encoding/hex.js";

/**
 * An agent's id is a fingerprint of its Ed25519 public key: "ag_" + the first 16 bytes of
 * SHA-256(key), hex. So one id has one key, and a key entry of the log cannot name another
 * agent's id (the auditor recomputes it).
 */
export function agentIdForKey(publicKey: Uint8Array): string {
  return `ag_${encodeHex(sha256(publicKey).subarray(0, 16))}`;
}
