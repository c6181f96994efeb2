/** Protocol version spoken by this code. A message with any other `v` is refused (`unsupported_version`). */
export const PROTOCOL_VERSION = 1;

/** Hard limits every implementation must respect; the edge refuses anything larger. */
export const LIMITS = {
  /** One WebSocket message, UTF-8 bytes. Larger: `message_too_large`. */
  messageBytes: 256 * 1024,
  /** Records in one `records` batch. */
  batchRecords: 64,
  /** Errors a connection may cause within `strikeWindowMs` before the edge closes it with 1008. */
  strikes: 10,
  strikeWindowMs: 60_000,
} as const;
