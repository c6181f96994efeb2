/**
 * `becomingone-agent leaf-hash FILE [--base64]`: the RFC 6962 leaf hash SHA-256(0x00 ‖ bytes) of a
 * log entry's bytes (raw, or base64 text with --base64, e.g. the `leaf` field of GET
 * /v1/log/entries; "-" reads stdin), in hex and in base64 (the form of proofs' leafHash), and what
 * the entry is: a record (0x01), an agent checkpoint (0x02) or a key event (0x03).
 *
 * Exit 0 the bytes are a well-formed entry; 1 they are not (the hash is still printed, the reason
 * is on stderr); 2 unreadable input or bad arguments.
 */
import { parseCheckpoint } from "../../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../../shared/encoding/base64.js";
import { encodeHex } from "../../../shared/encoding/hex.js";
import { LogError, decodeLogEntry, hashLeaf, type LogEntry } from "../../../shared/log/index.js";
import { parseOptions, readEntryBytes } from "../auditInput.js";
import { UsageError, type Command } from "../command.js";
import { MAX_ENTRY_BYTES } from "./verify-record.js";

/** One line describing a decoded entry. */
export function describeEntry(entry: LogEntry): string {
  switch (entry.type) {
    case "record": {
      const r = entry.record;
      return `record (0x01): agent ${r.agentId} seq ${r.seq} kind ${r.kind} at ${new Date(r.timestamp).toISOString()}`;
    }
    case "agent-checkpoint": {
      let head = "";
      try {
        // The note's text up to its blank line is the checkpoint body; its size and origin help a reader.
        const body = entry.note.slice(0, entry.note.indexOf("\n\n") + 1);
        const cp = parseCheckpoint(body);
        head = `, ${cp.origin} size ${cp.size}`;
      } catch {
        head = "";
      }
      return `agent-checkpoint (0x02): agent ${entry.agentId}${head}`;
    }
    case "key":
      return `key (0x03): ${entry.event} agent ${entry.agentId} public key ${encodeBase64(entry.publicKey)} at ${new Date(entry.timestamp).toISOString()}`;
  }
}

/** The leaf hash of entry bytes and what the bytes decode to (or why they do not). */
export function leafHashOf(bytes: Uint8Array): { hex: string; base64: string; type: string; valid: boolean } {
  const hash = hashLeaf(bytes);
  const out = { hex: encodeHex(hash), base64: encodeBase64(hash) };
  try {
    return { ...out, type: describeEntry(decodeLogEntry(bytes)), valid: true };
  } catch (err) {
    if (err instanceof LogError) return { ...out, type: `not a log entry: ${err.code}: ${err.message}`, valid: false };
    throw err;
  }
}

export const command: Command = {
  name: "leaf-hash",
  summary: "print the RFC 6962 leaf hash of a log entry's bytes and the entry's type",
  usage: "leaf-hash FILE|- [--base64]   (exit 0 a log entry, 1 not one (hash still printed), 2 unreadable)",
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { base64: { type: "boolean" } });
    if (positionals.length !== 1) throw new UsageError("expects exactly one FILE argument (- for stdin)");
    const result = leafHashOf(readEntryBytes(positionals[0]!, values.base64 === true, MAX_ENTRY_BYTES));
    process.stdout.write(`hex     ${result.hex}\nbase64  ${result.base64}\n`);
    if (result.valid) {
      process.stdout.write(`type    ${result.type}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.type}\n`);
    return 1;
  },
};
