/**
 * Errors of the log: one class with a stable `code` and the numbers involved in `details`, so a
 * failure explains itself in one log line (which bound failed, with what values).
 */
import { encodeHex } from "../encoding/hex.js";

export type LogErrorCode =
  /** A size, index or level is not a non-negative safe integer. */
  | "INVALID_NUMBER"
  /** index >= size. */
  | "INDEX_OUT_OF_RANGE"
  /** A requested tree size is larger than the tree. */
  | "SIZE_OUT_OF_RANGE"
  /** Consistency asked from a larger to a smaller size. */
  | "SIZE_ORDER"
  /** Consistency from the empty tree: not defined (RFC 9162 §2.1.4 requires 0 < m). */
  | "EMPTY_TREE_CONSISTENCY"
  /** Equal sizes need an empty consistency proof. */
  | "PROOF_NOT_EMPTY"
  /** The proof has the wrong number of hashes for the sizes/index given. */
  | "PROOF_LENGTH"
  /** A hash (proof element, root or leaf hash) is not 32 bytes. */
  | "HASH_LENGTH"
  /** The root computed from the proof differs from the root claimed. */
  | "ROOT_MISMATCH"
  /** The store lacks a node hash the tree needs (corrupt or truncated storage). */
  | "STORE_MISSING_NODE"
  /** The store's size changed under the tree (a second writer) or a batch did not line up. */
  | "STORE_CONFLICT"
  /** An entry does not satisfy the canonical encoding's rules. */
  | "ENTRY_INVALID";

export type LogErrorDetails = Readonly<Record<string, number | string>>;

export class LogError extends Error {
  override readonly name: string = "LogError";
  constructor(
    readonly code: LogErrorCode,
    message: string,
    readonly details: LogErrorDetails = {},
  ) {
    super(message);
  }
}

/** The calculated root differs from the expected one; both are kept, and shown in hex. */
export class RootMismatchError extends LogError {
  override readonly name = "RootMismatchError";
  constructor(
    readonly expected: Uint8Array,
    readonly calculated: Uint8Array,
    what = "root",
  ) {
    const e = encodeHex(expected);
    const c = encodeHex(calculated);
    super("ROOT_MISMATCH", `${what} mismatch: expected ${e}, calculated ${c}`, { what, expected: e, calculated: c });
  }
}

/** True for any error of the log (LogError or a subclass). */
export function isLogError(err: unknown): err is LogError {
  return err instanceof LogError;
}
