/**
 * `becomingone-agent verify-checkpoint FILE --key VKEY [--key VKEY…] [--origin ORIGIN]`: checks a
 * signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note) against trusted verifier keys
 * (`name+hash+base64`). Signatures by other keys are ignored.
 *
 * Exit 0 valid (one line on stdout), 1 invalid: no signature by a given key, a bad signature by a
 * given key, or another origin (one line on stderr), 2 malformed file, key or arguments.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { CheckpointError, openCheckpoint, type Checkpoint } from "../../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../../shared/encoding/base64.js";
import { NOTE_LIMITS, NoteError, formatKeyId, parseVerifierKey, type NoteVerifier } from "../../../shared/note/index.js";
import { UsageError, type Command } from "../command.js";

/** The outcome of checking one signed checkpoint. */
export type CheckpointCheck = { readonly valid: true; readonly summary: string } | { readonly valid: false; readonly reason: string };

/** A signed checkpoint opened against trusted keys: the checkpoint, or why it is not valid. */
export type OpenedCheckpoint =
  | { readonly valid: true; readonly checkpoint: Checkpoint; readonly by: string }
  | { readonly valid: false; readonly reason: string };

/**
 * Opens a signed checkpoint's bytes against verifier keys.
 * @throws UsageError when the note or checkpoint is malformed
 */
export function openSignedCheckpoint(note: Uint8Array, verifiers: readonly NoteVerifier[], origin?: string): OpenedCheckpoint {
  try {
    const { checkpoint, note: opened } = openCheckpoint(note, verifiers, origin === undefined ? {} : { origin });
    return { valid: true, checkpoint, by: opened.verified.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(", ") };
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
  const { checkpoint, by } = opened;
  return { valid: true, summary: `${checkpoint.origin} size ${checkpoint.size} root ${encodeBase64(checkpoint.root)} signed by ${by}` };
}

export const command: Command = {
  name: "verify-checkpoint",
  summary: "verify a signed checkpoint (C2SP signed note) against verifier keys",
  usage: "verify-checkpoint FILE --key NAME+HASH+BASE64 [--key …] [--origin ORIGIN]   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    let values: { key?: string[]; origin?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { key: { type: "string", multiple: true }, origin: { type: "string" } },
        allowPositionals: true,
        strict: true,
      }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument");
    if (!values.key || values.key.length === 0) throw new UsageError("needs at least one --key NAME+HASH+BASE64");
    const verifiers = values.key.map((k) => {
      try {
        return parseVerifierKey(k);
      } catch (err) {
        throw new UsageError(`bad --key: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    const path = positionals[0]!;
    let bytes: Uint8Array;
    try {
      const size = statSync(path).size;
      if (size > NOTE_LIMITS.maxBytes) throw new UsageError(`${path} is ${size} bytes, limit ${NOTE_LIMITS.maxBytes}`);
      bytes = readFileSync(path);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const result = checkSignedCheckpoint(bytes, verifiers, values.origin);
    if (result.valid) {
      process.stdout.write(`valid: ${result.summary}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.reason}\n`);
    return 1;
  },
};
