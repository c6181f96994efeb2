/**
 * The C2SP tlog-checkpoint body: the log's origin, its size in decimal, its root in base64, then
 * optional extension lines, each ending in a newline:
 *
 *   example.com/log\n
 *   1234\n
 *   base64(root)\n
 *   [extension lines]
 */
import { decodeBase64, encodeBase64 } from "../encoding/base64.js";
import { isWellFormedText } from "../encoding/utf8.js";

export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  constructor(
    readonly code: "CHECKPOINT_MALFORMED" | "CHECKPOINT_ORIGIN_MISMATCH",
    message: string,
    readonly details: Readonly<Record<string, number | string>> = {},
  ) {
    super(message);
  }
}

export interface Checkpoint {
  /** Unique identity of the log, e.g. "becomingone.example/fleet/alpha" (no spaces, no "+"). */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** RFC 6962 root at that size (32 bytes). */
  readonly root: Uint8Array;
  /** Extra lines after the root, each non-empty and without newline. */
  readonly extensions?: readonly string[];
}

const ROOT_BYTES = 32;
const MAX_EXTENSIONS = 32;

function originProblem(origin: string): string | undefined {
  if (origin.length === 0) return "is empty";
  if (!isWellFormedText(origin)) return "is not well-formed Unicode";
  if (/[\s+\x00-\x1f\x7f]/u.test(origin)) return "has a space, control character or +";
  return undefined;
}

function malformed(message: string, details: Record<string, number | string> = {}): CheckpointError {
  return new CheckpointError("CHECKPOINT_MALFORMED", message, details);
}

/**
 * The checkpoint body text.
 * @throws CheckpointError CHECKPOINT_MALFORMED when a field breaks the format
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const problem = originProblem(checkpoint.origin);
  if (problem) throw malformed(`checkpoint origin ${problem}`);
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw malformed(`checkpoint size ${checkpoint.size} is not a non-negative safe integer`);
  if (checkpoint.root.length !== ROOT_BYTES) throw malformed(`checkpoint root is ${checkpoint.root.length} bytes, want ${ROOT_BYTES}`);
  const extensions = checkpoint.extensions ?? [];
  if (extensions.length > MAX_EXTENSIONS) throw malformed(`checkpoint has ${extensions.length} extension lines, limit ${MAX_EXTENSIONS}`);
  for (const line of extensions) {
    if (line.length === 0 || /[\x00-\x1f]/.test(line) || !isWellFormedText(line)) throw malformed("checkpoint extension lines must be non-empty text without control characters");
  }
  return [checkpoint.origin, String(checkpoint.size), encodeBase64(checkpoint.root), ...extensions].join("\n") + "\n";
}

/**
 * Parses a checkpoint body (the text of a signed note), strictly.
 * @throws CheckpointError CHECKPOINT_MALFORMED
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw malformed("checkpoint does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw malformed(`checkpoint has ${lines.length} lines, needs at least 3 (origin, size, root)`, { lines: lines.length });
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  const problem = originProblem(origin);
  if (problem) throw malformed(`checkpoint origin ${problem}`);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw malformed(`checkpoint size ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal integer without leading zeros below 2^53`);
  }
  let root: Uint8Array;
  try {
    root = decodeBase64(rootText);
  } catch {
    throw malformed("checkpoint root is not standard base64");
  }
  if (root.length !== ROOT_BYTES) throw malformed(`checkpoint root is ${root.length} bytes, want ${ROOT_BYTES}`, { got: root.length, want: ROOT_BYTES });
  if (extensions.length > MAX_EXTENSIONS) throw malformed(`checkpoint has ${extensions.length} extension lines, limit ${MAX_EXTENSIONS}`);
  if (extensions.some((l) => l.length === 0)) throw malformed("checkpoint has an empty extension line");
  return { origin, size: Number(sizeText), root, extensions };
}
