/**
 * Which key was the agent's at a global log index, from its key entries (each already checked to be
 * in the log). Pure; the rule auditors apply to a record's device signature.
 */
import { agentIdForKey } from "../log/agent-id.js";
import type { KeyEventName } from "./fetch-documents.js";

export interface LoggedKeyEvent {
  readonly event: KeyEventName;
  readonly publicKey: Uint8Array;
  /** Global log index of the key entry. */
  readonly index: number;
}

export type KeyAtIndex =
  | {
      readonly valid: true;
      readonly publicKey: Uint8Array;
      readonly enrolledIndex: number;
      /** The enrollment entry comes after the index: an agent enrolled before keys were logged (its entries were appended later). */
      readonly enrolledAfter: boolean;
    }
  | { readonly valid: false; readonly reason: string };

/**
 * The agent's key at `index`: every key entry must carry the key whose fingerprint is the agent id
 * (else the log names a key the agent cannot have); the key must have an enrollment entry and no
 * revocation entry before `index`. An enrollment after `index` is accepted and said
 * (`enrolledAfter`): agents enrolled before this version got their key entries appended on upgrade,
 * after their older records; the fingerprint still binds the key to the id.
 */
export function keyValidAt(events: readonly LoggedKeyEvent[], index: number, agentId: string): KeyAtIndex {
  const sorted = [...events].sort((a, b) => a.index - b.index);
  const foreign = sorted.find((e) => agentIdForKey(e.publicKey) !== agentId);
  if (foreign !== undefined) return { valid: false, reason: `the ${foreign.event} key entry at index ${foreign.index} carries a key that is not ${agentId}'s (an agent id is its key's fingerprint)` };
  const enrolled = sorted.find((e) => e.event === "enrolled");
  if (enrolled === undefined) return { valid: false, reason: `no key entry enrolls ${agentId}'s key (no enrollment entry at all)` };
  const revoked = sorted.find((e) => e.event === "revoked" && e.index < index);
  if (revoked !== undefined) return { valid: false, reason: `the agent's key was revoked at index ${revoked.index}, before index ${index}` };
  return { valid: true, publicKey: enrolled.publicKey, enrolledIndex: enrolled.index, enrolledAfter: enrolled.index > index };
}
