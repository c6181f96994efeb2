/**
 * `becomingone-agent leaf-hash FILE [--base64]`: the RFC 6962 leaf hash SHA-256(0x00 ‖ bytes) of a
 * log entry, in standard base64 (as proofs carry it), followed by what the entry is. Exit 0 for an
 * entry of this log's encodings, 1 for bytes that are not one (the hash is printed anyway), 2 usage.
 */
import { parseArgs } from "node:util";
import { encodeBase64 } from "../../../shared/encoding/base64.js";
import { decodeLogEntry, hashLeaf } from "../../../shared/log/index.js";
import { UsageError, type Command } from "../command.js";
import { readEntryFile } from "../entryFile.js";

export function describeEntry(bytes: Uint8Array): { ok: true; text: string } | { ok: false; text: string } {
  try {
    const entry = decodeLogEntry(bytes);
    if (entry.type === "record") return { ok: true, text: `record ${entry.record.agentId} seq ${entry.record.seq} ${entry.record.kind}` };
    if (entry.type === "key") return { ok: true, text: `key ${entry.event} ${entry.agentId} ${encodeBase64(entry.publicKey)}` };
    return { ok: true, text: `agent-checkpoint ${entry.agentId}` };
  } catch (err) {
    return { ok: false, text: `not a log entry: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export const command: Command = {
  name: "leaf-hash",
  summary: "print the RFC 6962 leaf hash of a log entry's bytes (raw, or base64 with --base64)",
  usage: "leaf-hash FILE [--base64]   (prints `<base64 leaf hash>  <what the entry is>`; exit 1 if the bytes are no log entry)",
  async run(argv) {
    let values: { base64?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { base64: { type: "boolean" } }, allowPositionals: true, strict: true }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message.split("\n")[0]! : String(err));
    }
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument");
    const bytes = readEntryFile(positionals[0]!, values.base64 === true);
    const described = describeEntry(bytes);
    process.stdout.write(`${encodeBase64(hashLeaf(bytes))}  ${described.text}\n`);
    return described.ok ? 0 : 1;
  },
};
