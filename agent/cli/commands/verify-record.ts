/**
 * `becomingone-agent verify-record FILE [--base64] (--public-key BASE64|BASE64URL | --key VKEY)`:
 * decodes a record entry (type 0x01, the bytes of a global-log or agent-log leaf, raw or as base64
 * text; "-" reads stdin) and checks its device signature under the agent's Ed25519 public key —
 * given raw, or as the verifier key an auditor gets from GET /v1/log/agents/:id/keys (the key name
 * is not part of a record signature, only the public key is used).
 *
 * Exit 0 the signature verifies (one line on stdout), 1 it does not (one line on stderr), 2 the
 * bytes are not a record entry, or bad arguments.
 */
import { encodeBase64 } from "../../../shared/encoding/base64.js";
import { encodeHex } from "../../../shared/encoding/hex.js";
import { LogError, decodeLogEntry, hashLeaf, verifyRecordSignature, type SealedRecord } from "../../../shared/log/index.js";
import { parseOptions, publicKeyArgument, readEntryBytes, verifierKeyParts } from "../auditInput.js";
import { UsageError, type Command } from "../command.js";

/** Largest entry read: a record's payload is at most 64 KiB, plus its fixed fields. */
export const MAX_ENTRY_BYTES = 128 * 1024;

/** The outcome of checking a record's device signature. */
export type RecordCheck = { readonly valid: true; readonly summary: string } | { readonly valid: false; readonly reason: string };

/**
 * Decodes record entry bytes.
 * @throws UsageError when the bytes are not a well-formed 0x01 record entry
 */
export function decodeRecordEntry(bytes: Uint8Array): SealedRecord {
  try {
    const entry = decodeLogEntry(bytes);
    if (entry.type !== "record") throw new UsageError(`the bytes are a ${entry.type} entry (type 0x${bytes[0]!.toString(16).padStart(2, "0")}), not a record (0x01)`);
    return entry.record;
  } catch (err) {
    if (err instanceof LogError) throw new UsageError(`not a log entry: ${err.code}: ${err.message}`);
    throw err;
  }
}

/** Checks a record entry's device signature under a 32-byte Ed25519 public key. */
export function checkRecordSignature(bytes: Uint8Array, publicKey: Uint8Array): RecordCheck {
  const record = decodeRecordEntry(bytes);
  const what = `record of agent ${record.agentId} seq ${record.seq} kind ${record.kind} at ${new Date(record.timestamp).toISOString()}`;
  if (!verifyRecordSignature(record, publicKey)) {
    return { valid: false, reason: `BAD_SIGNATURE: the device signature of the ${what} does not verify under ${encodeBase64(publicKey)}` };
  }
  return { valid: true, summary: `${what} signed by ${encodeBase64(publicKey)}; leaf hash ${encodeHex(hashLeaf(bytes))}` };
}

export const command: Command = {
  name: "verify-record",
  summary: "check a record entry's device signature under the agent's public key",
  usage: "verify-record FILE|- [--base64] (--public-key BASE64|BASE64URL | --key NAME+HASH+BASE64)   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      base64: { type: "boolean" },
      "public-key": { type: "string" },
      key: { type: "string" },
    });
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument (- for stdin)");
    const raw = values["public-key"];
    if ((raw === undefined) === (values.key === undefined)) throw new UsageError("needs exactly one of --public-key BASE64 or --key NAME+HASH+BASE64");
    const publicKey = raw !== undefined ? publicKeyArgument(raw) : verifierKeyParts(values.key!).publicKey;
    const result = checkRecordSignature(readEntryBytes(positionals[0]!, values.base64 === true, MAX_ENTRY_BYTES), publicKey);
    if (result.valid) {
      process.stdout.write(`valid: ${result.summary}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.reason}\n`);
    return 1;
  },
};
