/**
 * `becomingone-agent verify-proof FILE.json`: checks an RFC 6962 inclusion or consistency proof
 * offline, in the JSON shapes of the transparency-dev/merkle test vectors (byte fields in standard
 * base64; extra fields such as "desc" are ignored):
 *
 *   inclusion    { "leafIdx", "treeSize", "root", "leafHash", "proof": [..] | null }
 *   consistency  { "size1", "size2", "root1", "root2", "proof": [..] | null }
 *
 * With `--checkpoint NOTE --key VKEY` the proof is bound to a signed checkpoint: it is checked
 * against the root of the checkpoint whose size is the proof's tree size (inclusion) or newer size
 * (consistency; a second --checkpoint binds the older size too), never against the file's own root,
 * so a forged leaf with a recomputed root fails. Without it, the file's roots are taken as given.
 *
 * Exit 0 valid (one line on stdout), 1 invalid (one line on stderr saying why), 2 malformed file.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { Checkpoint } from "../../../shared/checkpoint/index.js";
import { decodeBase64 } from "../../../shared/encoding/base64.js";
import { isLogError, verifyConsistency, verifyInclusion } from "../../../shared/log/index.js";
import { NOTE_LIMITS, parseVerifierKey } from "../../../shared/note/index.js";
import { UsageError, type Command } from "../command.js";
import { openSignedCheckpoint } from "./verify-checkpoint.js";

/** Largest proof file read (a proof of a 2^53-leaf tree is under 4 KB of JSON). */
const MAX_FILE_BYTES = 1 << 20;

// Sizes and indices are uint64 in the vectors' format. Values past 2^53 − 1 are well-formed but
// beyond what this verifier (and any real log) handles: they are reported invalid (exit 1), not
// malformed — e.g. the vectors' "leafIdx-sub-@1" with index 2^64 − 1.
const count = z.number().nonnegative().max(2 ** 64).refine(Number.isInteger, "must be an integer");
const bytes = z.string().transform((text, ctx) => {
  try {
    return decodeBase64(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : "invalid base64" });
    return z.NEVER;
  }
});
const proof = z.array(bytes).max(128).nullable().optional();

const InclusionDocument = z.object({ leafIdx: count, treeSize: count, root: bytes, leafHash: bytes, proof });
const ConsistencyDocument = z.object({ size1: count, size2: count, root1: bytes, root2: bytes, proof });

/** The outcome of checking one proof document. */
export type ProofCheck = { readonly valid: true; readonly summary: string } | { readonly valid: false; readonly reason: string };

function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "document"}: ${issue.message}`;
}

/**
 * Checks a parsed proof document; with `signed` checkpoints (already verified), against their roots.
 * @throws UsageError when the document is neither shape or a field is malformed
 */
export function checkProofDocument(doc: unknown, signed?: readonly Checkpoint[]): ProofCheck {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new UsageError("proof file must hold a JSON object");
  const run = (verify: () => void, summary: string): ProofCheck => {
    try {
      verify();
      return { valid: true, summary };
    } catch (err) {
      if (isLogError(err)) return { valid: false, reason: `${err.code}: ${err.message}` };
      throw err;
    }
  };
  const at = (size: number) => signed?.find((c) => c.size === size);
  const unsigned = (size: number): ProofCheck => ({
    valid: false,
    reason: `UNSIGNED_SIZE: no given signed checkpoint has size ${size} (given: ${signed!.map((c) => c.size).join(", ")})`,
  });
  if ("leafIdx" in doc) {
    const parsed = InclusionDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed inclusion proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    if (signed === undefined) {
      return run(() => verifyInclusion(d.leafHash, d.leafIdx, d.treeSize, d.proof ?? [], d.root), `leaf ${d.leafIdx} is included in the tree of size ${d.treeSize}`);
    }
    const cp = at(d.treeSize);
    if (cp === undefined) return unsigned(d.treeSize);
    return run(() => verifyInclusion(d.leafHash, d.leafIdx, cp.size, d.proof ?? [], cp.root), `leaf ${d.leafIdx} is included in the signed tree of size ${cp.size} (${cp.origin})`);
  }
  if ("size1" in doc) {
    const parsed = ConsistencyDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed consistency proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    if (signed === undefined) {
      return run(() => verifyConsistency(d.size1, d.size2, d.proof ?? [], d.root1, d.root2), `the tree of size ${d.size2} extends the tree of size ${d.size1}`);
    }
    const newer = at(d.size2);
    if (newer === undefined) return unsigned(d.size2);
    const older = signed.length > 1 ? at(d.size1) : undefined;
    if (signed.length > 1 && older === undefined) return unsigned(d.size1);
    const root1 = older?.root ?? d.root1;
    return run(
      () => verifyConsistency(d.size1, newer.size, d.proof ?? [], root1, newer.root),
      `the signed tree of size ${newer.size} extends the ${older ? "signed " : ""}tree of size ${d.size1}${older ? "" : " (root1 as the file gives it)"}`,
    );
  }
  throw new UsageError("proof file is neither an inclusion proof (leafIdx, …) nor a consistency proof (size1, …)");
}

/** Reads a small JSON file, turning every failure into a UsageError (exit 2). */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES) throw new UsageError(`${path} is ${size} bytes, limit ${MAX_FILE_BYTES}`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}

export const command: Command = {
  name: "verify-proof",
  summary: "verify an RFC 6962 inclusion or consistency proof (JSON), bound to a signed checkpoint with --checkpoint",
  usage: "verify-proof FILE.json [--checkpoint NOTE_FILE [--checkpoint NOTE_FILE] --key VKEY [--key …] [--origin ORIGIN]]   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    let values: { checkpoint?: string[]; key?: string[]; origin?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { checkpoint: { type: "string", multiple: true }, key: { type: "string", multiple: true }, origin: { type: "string" } },
        allowPositionals: true,
        strict: true,
      }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message.split("\n")[0]! : String(err));
    }
    if (positionals.length !== 1) throw new UsageError("expects exactly one argument: FILE.json");
    const checkpoints = values.checkpoint ?? [];
    if (checkpoints.length > 2) throw new UsageError("at most two --checkpoint files (the newer and the older tree)");
    if (checkpoints.length === 0 && (values.key !== undefined || values.origin !== undefined)) throw new UsageError("--key and --origin need --checkpoint");
    let signed: Checkpoint[] | undefined;
    if (checkpoints.length > 0) {
      if (!values.key || values.key.length === 0) throw new UsageError("--checkpoint needs --key NAME+HASH+BASE64 (the log's verifier key)");
      const verifiers = values.key.map((k) => {
        try {
          return parseVerifierKey(k.trim());
        } catch (err) {
          throw new UsageError(`bad --key: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      signed = [];
      for (const path of checkpoints) {
        const opened = openSignedCheckpoint(readNoteFile(path), verifiers, values.origin);
        if (!opened.valid) {
          process.stderr.write(`invalid: checkpoint ${path}: ${opened.reason}\n`);
          return 1;
        }
        signed.push(opened.checkpoint);
      }
    }
    const result = checkProofDocument(readJsonFile(positionals[0]!), signed);
    // Unbound, the file's own root is all there is: anyone can recompute one for a forged leaf.
    if (signed === undefined) process.stderr.write("warning: the root is the proof file's own and is not authenticated; bind it with --checkpoint NOTE_FILE --key VKEY\n");
    if (result.valid) {
      process.stdout.write(`valid: ${result.summary}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.reason}\n`);
    return 1;
  },
};

function readNoteFile(path: string): Uint8Array {
  try {
    const size = statSync(path).size;
    if (size > NOTE_LIMITS.maxBytes) throw new UsageError(`${path} is ${size} bytes, limit ${NOTE_LIMITS.maxBytes}`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
