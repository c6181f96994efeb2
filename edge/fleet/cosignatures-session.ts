import { base64ToBytes, base64UrlToBytes, type CosignatureMessage } from "../../shared/protocol/index.js";
import { sendError, strike, type AttachedSocket, type ConnectionState } from "./connection.js";
import { acceptCosignature } from "./cosignatures.js";
import { hitRateLimit } from "./rate-limit.js";
import type { AgentRow } from "./registry.js";
import type { FleetStorage } from "./sql-database.js";
import { AGENT_LOG_INCONSISTENT } from "./standing.js";

/**
 * Cosignatures an agent may send per minute. An honest agent cosigns each checkpoint it is sent (at
 * most one per 5 s: 12 a minute, checkpoint-cadence.ts) and the one its welcome carries; beyond
 * this, each would still cost a signature check (pure-JS Ed25519, ~2 ms).
 */
export const COSIGNATURES_PER_MINUTE = 20;

/**
 * The `cosignature` message of an active agent: rate-limited (`rate_limited`, no strike), then judged
 * and stored in one transaction (cosignatures.ts). `unknown_checkpoint` is no strike (the agent may
 * have been shown another log); `bad_cosignature` is one. A stored cosignature is not answered.
 */
export function receiveCosignature(
  ws: AttachedSocket,
  state: ConnectionState,
  storage: FleetStorage,
  fleetOrigin: string,
  row: AgentRow,
  message: CosignatureMessage,
  now: number,
): void {
  // An agent whose own key signed two histories is no witness: its cosignatures are not published.
  if (row.quarantine_reason === AGENT_LOG_INCONSISTENT) {
    sendError(ws, "unknown_checkpoint", "an agent quarantined for an inconsistent log is not taken as a witness", { ref: "cosignature", details: { size: message.size } });
    return;
  }
  const verdict = storage.transaction(() => {
    if (!hitRateLimit(storage.sql, `cosign:${row.id}`, COSIGNATURES_PER_MINUTE, 60_000, now).allowed) return "limited" as const;
    // The schema checks the alphabet and length; strict decoding also refuses non-canonical padding bits.
    const root = decodeOr(message.root);
    const signature = decodeOr(message.signature);
    if (root === undefined) return { kind: "unknown_checkpoint" as const, message: "the root is not canonical base64: no checkpoint this edge signed has it" };
    if (signature === undefined) return { kind: "bad_cosignature" as const, message: "the signature is not canonical base64" };
    const claim = { size: message.size, root, signature };
    return acceptCosignature(storage.sql, fleetOrigin, { id: row.id, publicKey: base64UrlToBytes(row.public_key_x) }, claim, now);
  });
  if (verdict === "limited") {
    sendError(ws, "rate_limited", `at most ${COSIGNATURES_PER_MINUTE} cosignatures a minute; this one was refused`, {
      ref: "cosignature",
      details: { perMinute: COSIGNATURES_PER_MINUTE },
    });
    return;
  }
  if (verdict.kind === "stored") return;
  sendError(ws, verdict.kind, verdict.message, { ref: "cosignature", details: { size: message.size } });
  if (verdict.kind === "bad_cosignature") strike(ws, state, now);
}

function decodeOr(text: string): Uint8Array | undefined {
  try {
    return base64ToBytes(text);
  } catch {
    return undefined;
  }
}
