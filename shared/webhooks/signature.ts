import { encodeBase64 } from "../encoding/base64.js";
import { encodeUtf8 } from "../encoding/utf8.js";
import { parseSecret } from "./secret.js";

/**
 * The Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")),
 * one per valid secret, space-separated (during a rotation both the old and the new secret sign, so
 * a receiver holding either verifies). WebCrypto only: the same code signs in workerd and Node.
 */
export interface SignedContent {
  /** `webhook-id`: the message id, the same on every attempt. */
  readonly id: string;
  /** `webhook-timestamp`: seconds since the epoch, UTC, fresh on every attempt. */
  readonly timestamp: number;
  /** The exact body text sent. */
  readonly body: string;
}

/** The bytes signed: `${id}.${timestamp}.${body}` in UTF-8. */
export function signingInput(content: SignedContent): Uint8Array {
  if (!Number.isSafeInteger(content.timestamp) || content.timestamp < 0) throw new RangeError("timestamp: non-negative integer seconds");
  if (content.id.includes(".")) throw new RangeError("a message id must not contain '.'");
  return encodeUtf8(`${content.id}.${content.timestamp}.${content.body}`);
}

/** One `v1,<base64>` signature with one key. */
export async function signWithKey(key: Uint8Array, content: SignedContent): Promise<string> {
  const hmacKey = await crypto.subtle.importKey("raw", key.slice(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", hmacKey, signingInput(content).slice());
  return `v1,${encodeBase64(new Uint8Array(mac))}`;
}

/**
 * The `webhook-signature` header value: one signature per secret (`whsec_…` texts), in the order
 * given, space-separated.
 */
export async function signatureHeader(secrets: readonly string[], content: SignedContent): Promise<string> {
  if (secrets.length === 0) throw new RangeError("at least one secret");
  const parts: string[] = [];
  for (const secret of secrets) parts.push(await signWithKey(parseSecret(secret), content));
  return parts.join(" ");
}
