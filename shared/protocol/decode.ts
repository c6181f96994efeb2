import type { z } from "zod";
import { PROTOCOL_VERSION, LIMITS } from "./limits.js";
import {
  agentMessageSchema,
  edgeMessageSchema,
  type AgentMessage,
  type EdgeMessage,
  type ProtocolErrorCode,
} from "./messages.js";

export type Decoded<T> =
  | { ok: true; message: T }
  | { ok: false; code: ProtocolErrorCode; message: string; ref?: string };

const utf8 = new TextEncoder();

function decodeWith<T>(schema: z.ZodType<T>, frame: string | ArrayBuffer | Uint8Array): Decoded<T> {
  if (typeof frame !== "string") {
    return { ok: false, code: "bad_message", message: "binary frames are not part of the protocol; send JSON text" };
  }
  // A UTF-16 length above the limit is certainly too large in UTF-8; below it, measure exactly.
  const bytes = frame.length > LIMITS.messageBytes ? frame.length : utf8.encode(frame).length;
  if (bytes > LIMITS.messageBytes) {
    return {
      ok: false,
      code: "message_too_large",
      message: `message of ${bytes} bytes exceeds the limit of ${LIMITS.messageBytes}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return { ok: false, code: "bad_json", message: "message is not valid JSON" };
  }
  // Only scalars are echoed: String() of a deeply nested array recurses past the stack (and this
  // function must never throw).
  const type = typeof json === "object" && json !== null && "type" in json && typeof json.type === "string" ? json.type.slice(0, 32) : undefined;
  if (typeof json === "object" && json !== null && "v" in json && json.v !== PROTOCOL_VERSION) {
    const shown = typeof json.v === "number" || typeof json.v === "string" ? String(json.v).slice(0, 16) : typeof json.v;
    return {
      ok: false,
      code: "unsupported_version",
      message: `protocol version ${shown} is not supported; this edge speaks v${PROTOCOL_VERSION}`,
      ...(type === undefined ? {} : { ref: type }),
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return {
      ok: false,
      code: "bad_message",
      message: `${where}${issue?.message ?? "invalid message"}`,
      ...(type === undefined ? {} : { ref: type }),
    };
  }
  return { ok: true, message: parsed.data };
}

/** Parses and validates one frame an agent sent. Never throws. */
export function decodeAgentMessage(frame: string | ArrayBuffer | Uint8Array): Decoded<AgentMessage> {
  return decodeWith(agentMessageSchema, frame);
}

/** Parses and validates one frame the edge sent (the agent side). Never throws. */
export function decodeEdgeMessage(frame: string | ArrayBuffer | Uint8Array): Decoded<EdgeMessage> {
  return decodeWith(edgeMessageSchema, frame);
}
