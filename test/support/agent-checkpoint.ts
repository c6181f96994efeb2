/**
 * An agent's signed checkpoint of its own log, made the way the contract fixes it (C2SP checkpoint,
 * origin `<fleet origin>/agent/<agentId>`, one Ed25519 signature by the device key under that name),
 * with the portable Ed25519 so Node tests and workerd tests share it.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { agentLogOrigin, agentLogVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { signCheckpoint } from "../../shared/checkpoint/index.js";
import { encodeRecord, MemoryNodeStore, MerkleTree, type SealedRecord } from "../../shared/log/index.js";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { keyId, type NoteSigner } from "../../shared/note/index.js";

/** A note signer of the agent's log: key name agentLogOrigin, the device key. */
export function agentLogSigner(fleetOrigin: string, agentId: string, secretKey: Uint8Array, name = agentLogOrigin(fleetOrigin, agentId)): NoteSigner {
  const publicKey = ed25519.getPublicKey(secretKey);
  return { name, keyId: keyId(name, publicKey), verifierKey: agentLogVerifierKey(fleetOrigin, agentId, publicKey), sign: (message) => ed25519.sign(message, secretKey) };
}

/** The agent's log over these records (leaf i = record seq i's entry bytes). */
export function agentTree(records: readonly SealedRecord[]): MerkleTree {
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (const record of records) tree.append(encodeRecord(record));
  return tree;
}

/** The signed note of the agent's checkpoint at `size` over `records` (or of an explicit root). */
export function signAgentCheckpoint(
  fleetOrigin: string,
  agentId: string,
  secretKey: Uint8Array,
  size: number,
  root: Uint8Array,
  options: { origin?: string; signers?: readonly NoteSigner[] } = {},
): string {
  const origin = options.origin ?? agentLogOrigin(fleetOrigin, agentId);
  return signCheckpoint({ origin, size, root }, options.signers ?? [agentLogSigner(fleetOrigin, agentId, secretKey)]);
}

/** The note with one bit of its (last) signature flipped: same key name and key id, a signature that does not verify. */
export function tamperSignature(note: string): string {
  const lines = note.slice(0, -1).split("\n");
  const last = lines.at(-1)!;
  const space = last.lastIndexOf(" ");
  const raw = decodeBase64(last.slice(space + 1));
  raw[raw.length - 1]! ^= 0x01;
  lines[lines.length - 1] = `${last.slice(0, space + 1)}${encodeBase64(raw)}`;
  return `${lines.join("\n")}\n`;
}
