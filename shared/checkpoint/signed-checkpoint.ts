/** Checkpoints as signed notes: sign a checkpoint, open one against trusted keys. */
import { openNote, signNote, type OpenedNote } from "../note/note.js";
import type { NoteSigner, NoteVerifier } from "../note/key-text.js";
import { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from "./checkpoint.js";

/**
 * The signed note of a checkpoint.
 * @throws CheckpointError CHECKPOINT_MALFORMED, NoteError
 */
export function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(checkpoint), signers);
}

/**
 * Opens a signed checkpoint: the note must verify under at least one of `verifiers` (see openNote)
 * and its text must be a checkpoint; with `origin`, the checkpoint's origin must equal it.
 * @throws NoteError (signature problems), CheckpointError (body problems, origin mismatch)
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: { origin?: string } = {},
): { checkpoint: Checkpoint; note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new CheckpointError("CHECKPOINT_ORIGIN_MISMATCH", `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`, {
      got: checkpoint.origin,
      want: options.origin,
    });
  }
  return { checkpoint, note: opened };
}
