/**
 * `becomingone-agent verify-record FILE [--base64] (--public-key BASE64 | --key VKEY)`: checks a
 * record entry's device signature (Ed25519 over "becomingone/record/v1" ‖ 0x00 ‖ fields) under the
 * agent's public key: 32 bytes in base64 (standard or url-safe, as GET /v1/log/agents/:id/keys and
 * the JWK give it) or the agent's verifier key text. Exit 0 valid, 1 invalid, 2 malformed.
 */
import { parseArgs } from "node:util";
import { decodeBase64, encodeBase64 } from "../../../shared/encoding/base64.js";
import { decodeLogEntry, verifyRecordSignature } from "../../../shared/log/index.js";
import { COSIGNATURE_TYPE, ED25519_TYPE, parseVerifierKeyText, verifierKeyType } from "../../../shared/note/index.js";
import { UsageError, type Command } from "../command.js";
import { readEntryFile } from "../entryFile.js";

function publicKeyFrom(text: string): Uint8Array {
  const standard = text.trim().replaceAll("-", "+").replaceAll("_", "/");
  const padded = standard + "=".repeat((4 - (standard.length % 4)) % 4);
  let key: Uint8Array;
  try {
    key = decodeBase64(padded);
  } catch {
    throw new UsageError("--public-key is not base64");
  }
  if (key.length !== 32) throw new UsageError(`--public-key is ${key.length} bytes, want 32 (Ed25519)`);
  return key;
}

export const command: Command = {
  name: "verify-record",
  summary: "verify a record entry's device signature under an agent's public key",
  usage: "verify-record FILE [--base64] (--public-key BASE64 | --key VKEY)   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    let values: { base64?: boolean; "public-key"?: string; key?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { base64: { type: "boolean" }, "public-key": { type: "string" }, key: { type: "string" } },
        allowPositionals: true,
        strict: true,
      }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message.split("\n")[0]! : String(err));
    }
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument");
    if ((values["public-key"] === undefined) === (values.key === undefined)) throw new UsageError("needs exactly one of --public-key BASE64 and --key VKEY");
    let publicKey: Uint8Array;
    if (values.key !== undefined) {
      try {
        const text = values.key.trim();
        publicKey = parseVerifierKeyText(text, verifierKeyType(text) === COSIGNATURE_TYPE ? COSIGNATURE_TYPE : ED25519_TYPE).publicKey;
      } catch (err) {
        throw new UsageError(`bad --key: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      publicKey = publicKeyFrom(values["public-key"]!);
    }
    const bytes = readEntryFile(positionals[0]!, values.base64 === true);
    let entry;
    try {
      entry = decodeLogEntry(bytes);
    } catch (err) {
      throw new UsageError(`not a log entry: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (entry.type !== "record") throw new UsageError(`the entry is a ${entry.type} entry, not a record`);
    const { record } = entry;
    if (!verifyRecordSignature(record, publicKey)) {
      process.stderr.write(`invalid: the signature of ${record.agentId} seq ${record.seq} does not verify under ${encodeBase64(publicKey)}\n`);
      return 1;
    }
    process.stdout.write(`valid: ${record.agentId} seq ${record.seq} (${record.kind}) signed by ${encodeBase64(publicKey)}\n`);
    return 0;
  },
};
