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
  /**
   * Messages a connection may send per second on average, and back to back (the edge's token
   * bucket over every agent message; the excess is dropped with `rate_limited`, without a `ref`).
   * Agents pace themselves below this (agent/link/messageBudget.ts).
   */
  connectionMessagesPerSecond: 20,
  connectionMessageBurst: 40,
  /**
   * Largest Lamport clock on the wire, both ways (2^48: over 44,000 years of ticks at 100 Hz). Far
   * below 2^53, so every sum the edge makes of a clock and a bounded step stays a safe integer, and
   * the edge's own clock (which never passes this) is always a valid clock to send.
   */
  lamportMax: 2 ** 48,
  /** Largest epoch-ms timestamp on the wire: the last instant a JS Date can hold (year 275760). */
  epochMsMax: 8_640_000_000_000_000,
  /** Longest signed checkpoint note in a `log_report`, characters (a note with one signature is ~300). */
  logReportNoteChars: 4096,
  /** Longest agent checkpoint note, characters (one signature: ~250; the entry allows 4096 bytes of UTF-8). */
  agentCheckpointNoteChars: 4096,
  /** Largest |phase| an agent may send, radians (the edge wraps it; beyond this wrapping loses all precision). */
  phaseAbsMax: 1_000_000,
} as const;
