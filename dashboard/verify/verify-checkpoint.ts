/**
 * Checks the global log's signed checkpoint against the log key, with the project's own
 * shared/note (Ed25519 signed notes) and shared/checkpoint (the C2SP body): the same functions the
 * `verify-checkpoint` CLI runs. Pure: texts in, a verdict out. Narrow imports (not the index files)
 * keep the browser bundle to what verification needs.
 */
import { CheckpointError } from "../../shared/checkpoint/checkpoint.js";
import { openCheckpoint } from "../../shared/checkpoint/signed-checkpoint.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { NoteError } from "../../shared/note/errors.js";
import { formatKeyId, parseVerifierKey, type NoteVerifier } from "../../shared/note/key.js";

/** What each verification step checks; `step` of a failure names the first that failed. */
export type VerifyStepId = "fetch" | "key" | "checkpoint-signature" | "checkpoint-body" | "entry" | "leaf-hash" | "proof-size" | "proof-index" | "inclusion" | "record-signature";

/** A step that passed, in words a person reads. */
export interface VerifyStep {
  readonly id: VerifyStepId;
  readonly detail: string;
}

/** A checkpoint whose signature verified under the log key. */
export interface VerifiedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** Standard base64 of `root`, as the API and the note show it. */
  readonly rootBase64: string;
  /** `name+hash` of the key that signed it. */
  readonly signedBy: string;
  /**
   * Signature lines by other keys, not checked here: the agents' cosignatures the edge publishes
   * with the checkpoint (GET /v1/log/checkpoint); an auditor checks them with the agents' keys.
   */
  readonly otherSignatures: number;
}

export type CheckpointVerdict =
  | { readonly ok: true; readonly checkpoint: VerifiedCheckpoint; readonly steps: readonly VerifyStep[] }
  | { readonly ok: false; readonly step: VerifyStepId; readonly reason: string; readonly steps: readonly VerifyStep[] };

/** `name+hash` of a verifier: how keys are named in notes and in the reasons below. */
export function keyLabel(verifier: Pick<NoteVerifier, "name" | "keyId">): string {
  return `${verifier.name}+${formatKeyId(verifier.keyId)}`;
}

/**
 * Verifies `note` (GET /v1/log/checkpoint) against `keyText` (GET /v1/log/key, surrounding
 * whitespace ignored). With `origin`, the checkpoint must name that log.
 */
export function verifyCheckpoint(keyText: string, note: string, origin?: string): CheckpointVerdict {
  const steps: VerifyStep[] = [];
  const fail = (step: VerifyStepId, reason: string): CheckpointVerdict => ({ ok: false, step, reason, steps });
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(keyText.trim());
  } catch (err) {
    return fail("key", `the log key is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const key = keyLabel(verifier);
  steps.push({ id: "key", detail: `log key ${key}` });
  try {
    const { checkpoint, note: opened } = openCheckpoint(note, [verifier], origin === undefined ? {} : { origin });
    steps.push({ id: "checkpoint-signature", detail: `checkpoint signature verifies with key ${key}` });
    const rootBase64 = encodeBase64(checkpoint.root);
    steps.push({ id: "checkpoint-body", detail: `checkpoint of ${checkpoint.origin}: size ${checkpoint.size}, root ${rootBase64}` });
    const signer = opened.verified[0]!;
    return {
      ok: true,
      steps,
      checkpoint: {
        origin: checkpoint.origin,
        size: checkpoint.size,
        root: checkpoint.root,
        rootBase64,
        signedBy: `${signer.name}+${formatKeyId(signer.keyId)}`,
        otherSignatures: opened.unverified.length,
      },
    };
  } catch (err) {
    if (err instanceof NoteError) {
      if (err.code === "NOTE_BAD_SIGNATURE") return fail("checkpoint-signature", `signature does not verify with key ${key}`);
      if (err.code === "NOTE_UNVERIFIED") return fail("checkpoint-signature", `the checkpoint carries no signature by key ${key}: ${err.message}`);
      return fail("checkpoint-signature", `the signed checkpoint is malformed: ${err.message}`);
    }
    if (err instanceof CheckpointError) {
      steps.push({ id: "checkpoint-signature", detail: `checkpoint signature verifies with key ${key}` });
      return fail("checkpoint-body", err.code === "CHECKPOINT_ORIGIN_MISMATCH" ? `the checkpoint is for another log: ${err.message}` : `the checkpoint text is malformed: ${err.message}`);
    }
    throw err;
  }
}
