/**
 * `becomingone-agent verify-checkpoint FILE --key VKEY [--key VKEY…] [--origin ORIGIN]`: checks a
 * signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note) against trusted verifier keys
 * (`name+hash+base64`). Signatures by other keys are ignored.
 *
 * Exit 0 valid (one line on stdout), 1 invalid: no signature by a given key, a bad signature by a
 * given key, or another origin (one line on stderr), 2 malformed file, key or arguments.
 */
import { CheckpointError, openCheckpoint, type Checkpoint } from "../../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../../shared/encoding/base64.js";
import { NOTE_LIMITS, NoteError, formatKeyId, type NoteVerifier } from "../../../shared/note/index.js";
import { parseOptions, readBoundedFile, verifierKeys } from "../auditInput.js";
import { UsageError, type Command } from "../command.js";

/** The outcome of checking one signed checkpoint. */
export type CheckpointCheck = { readonly valid: true; readonly summary: string } | { readonly valid: false; readonly reason: string };

/** A signed checkpoint that verified, or why it did not. */
export type OpenedCheckpoint =
  | { readonly valid: true; readonly checkpoint: Checkpoint; readonly signers: string }
  | { readonly valid: false; readonly reason: string };

/**
 * Opens a signed checkpoint's bytes against verifier keys.
 * @throws UsageError when the note or checkpoint is malformed
 */
export function openSignedCheckpoint(note: Uint8Array, verifiers: readonly NoteVerifier[], origin?: string): OpenedCheckpoint {
  try {
    const { checkpoint, note: opened } = openCheckpoint(note, verifiers, origin === undefined ? {} : { origin });
    const signers = opened.verified.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(", ");
    return { valid: true, checkpoint, signers };
  } catch (err) {
    if (err instanceof NoteError && (err.code === "NOTE_BAD_SIGNATURE" || err.code === "NOTE_UNVERIFIED")) {
      return { valid: false, reason: `${err.code}: ${err.message}` };
    }
    if (err instanceof CheckpointError && err.code === "CHECKPOINT_ORIGIN_MISMATCH") return { valid: false, reason: `${err.code}: ${err.message}` };
    if (err instanceof NoteError || err instanceof CheckpointError) throw new UsageError(`malformed signed checkpoint: ${err.code}: ${err.message}`);
    throw err;
  }
}

/**
 * Checks a signed checkpoint's bytes against verifier keys.
 * @throws UsageError when the note or checkpoint is malformed
 */
export function checkSignedCheckpoint(note: Uint8Array, verifiers: readonly NoteVerifier[], origin?: string): CheckpointCheck {
  const opened = openSignedCheckpoint(note, verifiers, origin);
  if (!opened.valid) return opened;
  const { checkpoint, signers } = opened;
  return { valid: true, summary: `${checkpoint.origin} size ${checkpoint.size} root ${encodeBase64(checkpoint.root)} signed by ${signers}` };
}

export const command: Command = {
  name: "verify-checkpoint",
  summary: "verify a signed checkpoint (C2SP signed note) against verifier keys",
  usage: "verify-checkpoint FILE --key NAME+HASH+BASE64 [--key …] [--origin ORIGIN]   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { key: { type: "string", multiple: true }, origin: { type: "string" } });
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument");
    if (!values.key || values.key.length === 0) throw new UsageError("needs at least one --key NAME+HASH+BASE64");
    const verifiers = verifierKeys(values.key);
    const bytes = readBoundedFile(positionals[0]!, NOTE_LIMITS.maxBytes);
    const result = checkSignedCheckpoint(bytes, verifiers, values.origin);
    if (result.valid) {
      process.stdout.write(`valid: ${result.summary}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.reason}\n`);
    return 1;
  },
};
