/**
 * Pinned witness keys: cosignature verifier keys (type 0x04) named `<fleet origin>/witness/<agentId>`
 * (shared/checkpoint/agent-log-names.ts), and the count of valid cosignatures a note carries.
 */
import { COSIGNATURE_TYPE, cosignatureVerifier } from "../note/cosignature.js";
import { NoteError, openNote, parseVerifierKeyText, type NoteVerifier } from "../note/index.js";

const WITNESS_INFIX = "/witness/";

export interface WitnessKey {
  /** The vkey text as given. */
  readonly text: string;
  /** The fleet origin its name carries. */
  readonly origin: string;
  readonly agentId: string;
  readonly verifier: NoteVerifier;
}

export class WitnessKeyError extends Error {
  override readonly name = "WitnessKeyError";
}

/**
 * Parses a witness vkey (type 0x04 only: a 0x01 key of the same name would never match a cosignature).
 * @throws WitnessKeyError when it is not a cosignature key named after a witness
 */
export function parseWitnessKey(text: string): WitnessKey {
  let parts: { name: string; keyId: number; publicKey: Uint8Array };
  try {
    parts = parseVerifierKeyText(text, COSIGNATURE_TYPE);
  } catch (err) {
    throw new WitnessKeyError(`witness key ${JSON.stringify(text.slice(0, 80))}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const verifier = cosignatureVerifier(parts.name, parts.publicKey);
  const at = parts.name.lastIndexOf(WITNESS_INFIX);
  const agentId = at < 0 ? "" : parts.name.slice(at + WITNESS_INFIX.length);
  if (at <= 0 || !/^[\x21-\x7e]{1,128}$/.test(agentId) || agentId.includes(",")) {
    throw new WitnessKeyError(`witness key name ${parts.name} is not <fleet origin>/witness/<agent id>`);
  }
  return { text, origin: parts.name.slice(0, at), agentId, verifier };
}

/** The witnesses (of `witnesses`) whose cosignature on `note` verifies. A bad one is not counted. */
export function validCosigners(note: string, witnesses: readonly WitnessKey[]): { valid: string[]; bad: string[] } {
  const valid: string[] = [];
  const bad: string[] = [];
  for (const w of witnesses) {
    try {
      openNote(note, [w.verifier]);
      if (!valid.includes(w.agentId)) valid.push(w.agentId);
    } catch (err) {
      if (err instanceof NoteError && err.code === "NOTE_BAD_SIGNATURE") bad.push(w.agentId);
      else if (!(err instanceof NoteError && err.code === "NOTE_UNVERIFIED")) throw err;
    }
  }
  return { valid, bad };
}
