/** Errors of signed notes and note keys, each with a stable code and the facts involved. */

export type NoteErrorCode =
  /** A key name is empty, not well-formed, or has a space or "+". */
  | "KEY_NAME_INVALID"
  /** A signer or verifier key text does not parse, or its key hash does not match its key. */
  | "KEY_MALFORMED"
  /** Text to sign is empty, not newline-terminated, or has control characters. */
  | "TEXT_INVALID"
  /** A signed note does not follow the C2SP signed-note syntax. */
  | "NOTE_MALFORMED"
  /** A note is larger than NOTE_LIMITS.maxBytes. */
  | "NOTE_TOO_LARGE"
  /** A note has more than NOTE_LIMITS.maxSignatures signature lines. */
  | "NOTE_TOO_MANY_SIGNATURES"
  /** A signature by a known key does not verify: the whole note is rejected. */
  | "NOTE_BAD_SIGNATURE"
  /** No signature by any known key. */
  | "NOTE_UNVERIFIED";

export class NoteError extends Error {
  override readonly name = "NoteError";
  constructor(
    readonly code: NoteErrorCode,
    message: string,
    readonly details: Readonly<Record<string, number | string>> = {},
  ) {
    super(message);
  }
}
