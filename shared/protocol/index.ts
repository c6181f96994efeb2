/**
 * The agent ↔ edge WebSocket protocol: versioned zod schemas for every message both ways, the sealed
 * record and its signing bytes, fleet config, limits and error codes. See docs/protocol.md.
 */
export { PROTOCOL_VERSION, LIMITS } from "./limits.js";
export * from "./messages.js";
export * from "./config.js";
export * from "./record.js";
export * from "./decode.js";

export { bytesToBase64, base64ToBytes, bytesToBase64Url, base64UrlToBytes } from "./base64.js";
export { protocolJsonSchema } from "./json-schema.js";
export * from "./enrollment.js";
export {
  signConnectToken,
  CONNECT_TOKEN_TYPE,
  CONNECT_TOKEN_ALGORITHMS,
  CONNECT_TOKEN_MAX_LIFETIME_S,
  type ConnectTokenInput,
} from "./connect-token.js";
