/** C2SP signed notes with Ed25519 keys (the formats of Go's sumdb/note). */
export { NoteError, type NoteErrorCode } from "./errors.js";
export { parseVerifierKeyText, formatVerifierKey, verifierKeyType, type VerifierKeyParts } from "./key-text.js";
export {
  COSIGNATURE_TYPE,
  COSIGNATURE_BYTES,
  cosignatureKeyId,
  cosignedMessage,
  cosign,
  cosignatureLine,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignerVerifierKey,
  parseCosignerKey,
} from "./cosignature.js";
export {
  ED25519_TYPE,
  keyId,
  formatKeyId,
  isValidKeyName,
  generateSignerKey,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from "./key.js";
export { NOTE_LIMITS, signNote, parseNote, openNote, type NoteSignature, type OpenedNote } from "./note.js";
