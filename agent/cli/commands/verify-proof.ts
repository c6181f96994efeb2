/**
 * `becomingone-agent verify-proof FILE.json [--checkpoint NOTE_FILE --key VKEY [--key …] [--origin O]]`:
 * checks an RFC 6962 inclusion or consistency proof offline, in the JSON shapes of the
 * transparency-dev/merkle test vectors (byte fields in standard base64; extra fields such as "desc"
 * are ignored):
 *
 *   inclusion    { "leafIdx", "treeSize", "root", "leafHash", "proof": [..] | null }
 *   consistency  { "size1", "size2", "root1", "root2", "proof": [..] | null }
 *
 * A root inside a proof file proves nothing by itself (anyone can recompute one for a forged leaf),
 * so with --checkpoint the proof is bound to a signed checkpoint: an inclusion proof must be for
 * exactly its size and root; a consistency proof must end (size2/root2) or start (size1/root1) at
 * it (give two --checkpoint files to bind both ends). Without --checkpoint the file's roots are
 * used and a warning on stderr says they are unauthenticated.
 *
 * Exit 0 valid (one line on stdout), 1 invalid (one line on stderr saying why), 2 malformed file,
 * checkpoint, key or arguments.
 */
import { z } from "zod";
import type { Checkpoint } from "../../../shared/checkpoint/index.js";
import { decodeBase64, encodeBase64 } from "../../../shared/encoding/base64.js";
import { bytesEqual } from "../../../shared/encoding/bytes.js";
import { isLogError, verifyConsistency, verifyInclusion } from "../../../shared/log/index.js";
import { NOTE_LIMITS } from "../../../shared/note/index.js";
import { parseOptions, readBoundedFile, verifierKeys } from "../auditInput.js";
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
 * Checks a parsed proof document. With `signed` (one or two checkpoints whose signatures verified)
 * the proof must be for exactly their sizes and roots: an inclusion proof for the size of one of
 * them; a consistency proof must start or end at each of them. Signed roots are the ones verified
 * against, and a different root in the file is invalid too.
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
  const sizes = () => signed!.map((c) => c.size).join(" and ");
  // After the proof verified against the signed roots: the file's own roots must be those too.
  const rootsDiffer = (pairs: readonly (readonly [Uint8Array, number, string])[]): ProofCheck | undefined => {
    for (const [fileRoot, size, field] of pairs) {
      const cp = at(size);
      if (cp !== undefined && !bytesEqual(fileRoot, cp.root)) {
        return { valid: false, reason: `CHECKPOINT_ROOT_MISMATCH: the file's ${field} ${encodeBase64(fileRoot)} is not the signed root ${encodeBase64(cp.root)}` };
      }
    }
    return undefined;
  };
  if ("leafIdx" in doc) {
    const parsed = InclusionDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed inclusion proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    const cp = at(d.treeSize);
    if (signed !== undefined && cp === undefined) {
      return { valid: false, reason: `CHECKPOINT_SIZE_MISMATCH: the proof is for tree size ${d.treeSize}, the checkpoint signs size ${sizes()}` };
    }
    const result = run(() => verifyInclusion(d.leafHash, d.leafIdx, d.treeSize, d.proof ?? [], cp?.root ?? d.root), `leaf ${d.leafIdx} is included in the tree of size ${d.treeSize}`);
    return result.valid ? (rootsDiffer([[d.root, d.treeSize, "root"]]) ?? result) : result;
  }
  if ("size1" in doc) {
    const parsed = ConsistencyDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed consistency proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    // A signed checkpoint is the proof's newer tree or its older one (an auditor proving that a new
    // checkpoint extends the one it kept, or that a kept one is extended by a newer tree).
    const stray = signed?.find((c) => c.size !== d.size1 && c.size !== d.size2);
    if (stray !== undefined) {
      return { valid: false, reason: `CHECKPOINT_SIZE_MISMATCH: the proof is between sizes ${d.size1} and ${d.size2}, the checkpoint signs size ${stray.size}` };
    }
    const root1 = at(d.size1)?.root ?? d.root1;
    const root2 = at(d.size2)?.root ?? d.root2;
    const result = run(() => verifyConsistency(d.size1, d.size2, d.proof ?? [], root1, root2), `the tree of size ${d.size2} extends the tree of size ${d.size1}`);
    return result.valid ? (rootsDiffer([[d.root2, d.size2, "root2"], [d.root1, d.size1, "root1"]]) ?? result) : result;
  }
  throw new UsageError("proof file is neither an inclusion proof (leafIdx, …) nor a consistency proof (size1, …)");
}

/** Reads a small JSON file, turning every failure into a UsageError (exit 2). */
export function readJsonFile(path: string): unknown {
  const text = Buffer.from(readBoundedFile(path, MAX_FILE_BYTES)).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}

export const command: Command = {
  name: "verify-proof",
  summary: "verify an RFC 6962 inclusion or consistency proof (JSON) offline, bound to a signed checkpoint",
  usage:
    "verify-proof FILE.json [--checkpoint NOTE_FILE [--checkpoint NOTE_FILE] --key NAME+HASH+BASE64 [--key …] [--origin ORIGIN]]   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      checkpoint: { type: "string", multiple: true },
      key: { type: "string", multiple: true },
      origin: { type: "string" },
    });
    if (positionals.length !== 1) throw new UsageError("expects exactly one argument: FILE.json");
    const keys = values.key ?? [];
    const notes = values.checkpoint ?? [];
    if (notes.length === 0 && (keys.length > 0 || values.origin !== undefined)) throw new UsageError("--key and --origin need --checkpoint NOTE_FILE");
    if (notes.length > 2) throw new UsageError("at most two --checkpoint files (a consistency proof's older and newer tree)");
    if (notes.length > 0 && keys.length === 0) throw new UsageError("--checkpoint needs at least one --key NAME+HASH+BASE64");
    const doc = readJsonFile(positionals[0]!);
    if (notes.length === 0) {
      const result = checkProofDocument(doc);
      process.stderr.write("warning: the root is the proof file's own and is not authenticated; bind it with --checkpoint NOTE_FILE --key VKEY\n");
      return report(result, "");
    }
    const verifiers = verifierKeys(keys);
    const signed: Checkpoint[] = [];
    const by: string[] = [];
    for (const path of notes) {
      const opened = openSignedCheckpoint(readBoundedFile(path, NOTE_LIMITS.maxBytes), verifiers, values.origin);
      if (!opened.valid) {
        process.stderr.write(`invalid: checkpoint${notes.length > 1 ? ` ${path}` : ""}: ${opened.reason}\n`);
        return 1;
      }
      signed.push(opened.checkpoint);
      by.push(`${opened.checkpoint.origin} size ${opened.checkpoint.size} by ${opened.signers}`);
    }
    return report(checkProofDocument(doc, signed), `, as signed in ${by.join(" and ")}`);
  },
};

function report(result: ProofCheck, signedBy: string): number {
  if (result.valid) {
    process.stdout.write(`valid: ${result.summary}${signedBy}\n`);
    return 0;
  }
  process.stderr.write(`invalid: ${result.reason}\n`);
  return 1;
}
