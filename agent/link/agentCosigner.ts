/**
 * The agent as a witness of the global log (docs/link.md "Cosigning"): a C2SP tlog-cosignature
 * (cosignature/v1, Ed25519) by the device key over the body of a global checkpoint the log auditor
 * verified and kept, under the name `witnessName(fleet origin, agentId)`. Pure apart from the
 * signing function it is given. Imports file by file (see agentCheckpoints.ts).
 */
import { witnessName } from "../../shared/checkpoint/agent-log-names.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { cosign } from "../../shared/note/cosignature-core.js";
import type { DeviceKey } from "../identity/deviceKey.js";

/** A global checkpoint the auditor kept (verified: pinned key, pinned origin, consistent with the last kept one). */
export interface KeptCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The checkpoint body (the note's text, up to and including its last newline). */
  readonly body: string;
}

/** The `cosignature` message's fields (v, type and lamport are the session's). */
export interface CosignatureFields {
  readonly size: number;
  /** base64 of the 32-byte root. */
  readonly root: string;
  /** base64 of the 76 bytes keyId ‖ u64 timestamp ‖ Ed25519 signature. */
  readonly signature: string;
}

/** Cosigns `kept` at `nowMs` (timestamp in whole seconds, UTC). */
export function cosignKept(kept: KeptCheckpoint, agentId: string, key: Pick<DeviceKey, "publicKeyRaw" | "sign">, nowMs: number): CosignatureFields {
  const timestamp = Math.floor(nowMs / 1000);
  const signature = cosign(kept.body, witnessName(kept.origin, agentId), key.publicKeyRaw, timestamp, (message) => key.sign(message));
  return { size: kept.size, root: encodeBase64(kept.root), signature: encodeBase64(signature) };
}
