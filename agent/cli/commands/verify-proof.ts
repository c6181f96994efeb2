/**
 * `becomingone-agent verify-proof FILE.json`: checks an RFC 6962 inclusion or consistency proof
 * offline, in the JSON shapes of the transparency-dev/merkle test vectors (byte fields in standard
 * base64; extra fields such as "desc" are ignored):
 *
 *   inclusion    { "leafIdx", "treeSize", "root", "leafHash", "proof": [..] | null }
 *   consistency  { "size1", "size2", "root1", "root2", "proof": [..] | null }
 *
 * Exit 0 valid (one line on stdout), 1 invalid (one line on stderr saying why), 2 malformed file.
 */
import { readFileSync, statSync } from "node:fs";
import { z } from "zod";
import { decodeBase64 } from "../../../shared/encoding/base64.js";
import { isLogError, verifyConsistency, verifyInclusion } from "../../../shared/log/index.js";
import { UsageError, type Command } from "../command.js";

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
 * Checks a parsed proof document.
 * @throws UsageError when the document is neither shape or a field is malformed
 */
export function checkProofDocument(doc: unknown): ProofCheck {
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
  if ("leafIdx" in doc) {
    const parsed = InclusionDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed inclusion proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    return run(() => verifyInclusion(d.leafHash, d.leafIdx, d.treeSize, d.proof ?? [], d.root), `leaf ${d.leafIdx} is included in the tree of size ${d.treeSize}`);
  }
  if ("size1" in doc) {
    const parsed = ConsistencyDocument.safeParse(doc);
    if (!parsed.success) throw new UsageError(`malformed consistency proof: ${describeIssues(parsed.error)}`);
    const d = parsed.data;
    return run(() => verifyConsistency(d.size1, d.size2, d.proof ?? [], d.root1, d.root2), `the tree of size ${d.size2} extends the tree of size ${d.size1}`);
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
  summary: "verify an RFC 6962 inclusion or consistency proof (JSON) offline",
  usage: "verify-proof FILE.json   (exit 0 valid, 1 invalid, 2 malformed)",
  async run(argv) {
    if (argv.length !== 1 || argv[0]!.startsWith("-")) throw new UsageError("expects exactly one argument: FILE.json");
    const result = checkProofDocument(readJsonFile(argv[0]!));
    if (result.valid) {
      process.stdout.write(`valid: ${result.summary}\n`);
      return 0;
    }
    process.stderr.write(`invalid: ${result.reason}\n`);
    return 1;
  },
};
