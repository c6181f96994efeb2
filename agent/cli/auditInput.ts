/**
 * Inputs of the auditor subcommands (verify-proof, verify-checkpoint, leaf-hash, verify-record):
 * bounded file reads (or stdin for "-"), verifier keys and raw public keys from arguments. Every
 * failure is a UsageError (exit 2) with one line saying what was wrong.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import {
  COSIGNATURE_TYPE,
  ED25519_TYPE,
  parseVerifierKey,
  parseVerifierKeyText,
  verifierKeyType,
  type NoteVerifier,
  type VerifierKeyParts,
} from "../../shared/note/index.js";
import { base64UrlToBytes } from "../../shared/protocol/base64.js";
import { UsageError } from "./command.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses options strictly (unknown flags are usage errors); positionals allowed. */
export function parseOptions<T extends Options>(argv: readonly string[], options: T): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Reads at most `maxBytes` from a file, or from stdin when `path` is "-". */
export function readBoundedFile(path: string, maxBytes: number): Uint8Array {
  try {
    if (path === "-") {
      const bytes = readFileSync(0);
      if (bytes.length > maxBytes) throw new UsageError(`stdin has ${bytes.length} bytes, limit ${maxBytes}`);
      return bytes;
    }
    const size = statSync(path).size;
    if (size > maxBytes) throw new UsageError(`${path} is ${size} bytes, limit ${maxBytes}`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path === "-" ? "stdin" : path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Entry bytes from a file: raw, or (with `base64`) standard base64 text with surrounding whitespace
 * ignored, e.g. the `leaf` field of GET /v1/log/entries saved to a file.
 */
export function readEntryBytes(path: string, base64: boolean, maxBytes: number): Uint8Array {
  const raw = readBoundedFile(path, base64 ? Math.ceil((maxBytes * 4) / 3) + 1024 : maxBytes);
  if (!base64) return raw;
  const text = Buffer.from(raw).toString("latin1").trim();
  try {
    return decodeBase64(text);
  } catch (err) {
    throw new UsageError(`${path === "-" ? "stdin" : path} is not standard base64: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Verifier keys from repeated --key flags (name+hash+base64). */
export function verifierKeys(keys: readonly string[]): NoteVerifier[] {
  return keys.map((k) => {
    try {
      return parseVerifierKey(k);
    } catch (err) {
      throw new UsageError(`bad --key: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/**
 * A verifier key's parts (name, key id, public key) without making a verifier of it: an Ed25519 key
 * (0x01, e.g. an agent log's verifierKey) or an Ed25519 cosigner key (0x04, its cosignerKey).
 */
export function verifierKeyParts(key: string): VerifierKeyParts {
  try {
    return parseVerifierKeyText(key, verifierKeyType(key) === COSIGNATURE_TYPE ? COSIGNATURE_TYPE : ED25519_TYPE);
  } catch (err) {
    throw new UsageError(`bad --key: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A 32-byte Ed25519 public key in standard base64 or unpadded base64url (how the edge's JSON carries keys). */
export function publicKeyArgument(text: string): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = decodeBase64(text);
  } catch {
    try {
      bytes = base64UrlToBytes(text);
    } catch {
      bytes = undefined;
    }
  }
  if (bytes === undefined) throw new UsageError("--public-key is neither standard base64 nor base64url");
  if (bytes.length !== 32) throw new UsageError(`--public-key must be 32 bytes (Ed25519), got ${bytes.length}`);
  return bytes;
}
