/**
 * Which of an agent's keys was valid at a global log index, from its key entries (each already
 * checked to be in the log): the newest key enrolled before that index and not revoked before it.
 * Pure; the rule auditors apply to a record's device signature.
 */
import { bytesEqual } from "../encoding/bytes.js";
import type { KeyEventName } from "./fetch-documents.js";

export interface LoggedKeyEvent {
  readonly event: KeyEventName;
  readonly publicKey: Uint8Array;
  /** Global log index of the key entry. */
  readonly index: number;
}

export type KeyAtIndex =
  | { readonly valid: true; readonly publicKey: Uint8Array; readonly enrolledIndex: number }
  | { readonly valid: false; readonly reason: string };

export function keyValidAt(events: readonly LoggedKeyEvent[], index: number): KeyAtIndex {
  const before = events.filter((e) => e.index < index).sort((a, b) => a.index - b.index);
  const enrolled: { publicKey: Uint8Array; index: number; revokedAt?: number }[] = [];
  for (const e of before) {
    const known = enrolled.find((k) => bytesEqual(k.publicKey, e.publicKey));
    if (e.event === "enrolled" && known === undefined) enrolled.push({ publicKey: e.publicKey, index: e.index });
    if (e.event === "revoked" && known !== undefined && known.revokedAt === undefined) known.revokedAt = e.index;
  }
  const live = enrolled.filter((k) => k.revokedAt === undefined);
  const newest = live[live.length - 1];
  if (newest !== undefined) return { valid: true, publicKey: newest.publicKey, enrolledIndex: newest.index };
  const revoked = enrolled[enrolled.length - 1];
  if (revoked !== undefined) return { valid: false, reason: `the agent's key was revoked at index ${revoked.revokedAt}, before index ${index}` };
  const first = events.filter((e) => e.event === "enrolled").sort((a, b) => a.index - b.index)[0];
  return {
    valid: false,
    reason: `no key entry enrolls a key before index ${index}${first ? ` (the first enrollment is at index ${first.index})` : " (no enrollment entry at all)"}`,
  };
}
