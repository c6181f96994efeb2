import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Stable error codes of the local API (docs/agent.md lists each with its status). */
export const API_ERROR_CODES = [
  "not_found",
  "method_not_allowed",
  "unauthorized",
  "forbidden",
  "unsupported_media_type",
  "payload_too_large",
  "bad_json",
  "bad_input",
  "queue_full",
  "signature_expired",
  "signature_replayed",
  "signature_invalid",
  "key_not_allowed",
  "nonce_cache_full",
  "shutting_down",
  "internal_error",
  "host_not_allowed",
  "unsupported_http_version",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** `{"error":{"code","message"}}` with the given status, plus any numbers involved in `details`. */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  details?: Record<string, number | string | boolean | null>,
): Response {
  return c.json({ error: { code, message, ...(details ? { details } : {}) } }, status);
}

/**
 * The same body written straight on Node's response, for refusals made before the app sees the
 * request (agent/api/connectionGuard.ts). Always `Connection: close`: the client is not kept.
 */
export function writeApiError(res: ServerResponse, status: number, code: ApiErrorCode, message: string, headers: Readonly<Record<string, string>>): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
  });
  res.end(body);
}
