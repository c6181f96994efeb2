import { z } from "zod";
import { fleetConfigSchema } from "./config.js";
import { PROTOCOL_VERSION, LIMITS } from "./limits.js";
import { agentIdSchema, sealedRecordSchema } from "./record.js";

/**
 * Every WebSocket message, both ways, as JSON text frames. Each carries `v` (the protocol version)
 * and `type`. Unknown members are ignored (stripped), so a newer peer can add optional fields.
 */
const version = z.literal(PROTOCOL_VERSION);
/** Every bound below exists so no number a peer sends can, once stored, summed or echoed, become invalid. */
const lamport = z.number().int().min(0).max(LIMITS.lamportMax);
const epochMs = z.number().int().min(0).max(LIMITS.epochMsMax);
const finite = z.number().finite();
const phase = finite.min(-LIMITS.phaseAbsMax).max(LIMITS.phaseAbsMax);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "a 32-byte hash in padded base64");

// ---- agent → edge ------------------------------------------------------------------------------

/** First message on every connection. `agentId` must be the authenticated agent. */
export const helloSchema = z.object({
  v: version,
  type: z.literal("hello"),
  agentId: agentIdSchema,
  lamport,
  /** Free-form software identification, e.g. "becomingone-agent/0.1.0". */
  software: z.string().max(100).optional(),
  /** The agent's own log head, for the operator's view. */
  agentLog: z.object({ size: count, root: base64Hash }).optional(),
});

/** A phase summary, at most `config.summaryHz` per second. */
export const summarySchema = z.object({
  v: version,
  type: z.literal("summary"),
  lamport,
  /** When θ was sampled, epoch milliseconds UTC (agent clock). */
  t: epochMs,
  /** Mesh oscillator phase θ, radians (|θ| ≤ 10^6; the edge wraps it). */
  theta: phase,
  /** Natural frequency ω, radians per second. */
  omega: finite.min(-1000).max(1000),
  /** The engine's coherence |T_tau|², in [0, 1]. */
  coherence: z.number().min(0).max(1),
  /** Token clock rate f, Hz (its Lamport clock's expected rate). */
  tokenHz: z.number().min(0).max(1000),
  /** The agent's own phase-drift measure (ψ − θ), radians, |x| ≤ 10^6; informational (default 0). */
  phaseDrift: phase.optional(),
  collapsed: z.boolean().optional(),
});

/** A batch of sealed records, in increasing `seq`. Every record's `agentId` must be the sender. */
export const recordsSchema = z.object({
  v: version,
  type: z.literal("records"),
  lamport,
  records: z.array(sealedRecordSchema).min(1).max(LIMITS.batchRecords),
});

/** Liveness / clock-offset probe; the edge answers `pong` with the same nonce. */
export const pingSchema = z.object({
  v: version,
  type: z.literal("ping"),
  nonce: z.string().max(64),
});

/** Why an agent's audit of the edge's log failed (agent/link/logAuditor.ts). */
export const LOG_REPORT_KINDS = ["fork", "consistency", "inclusion"] as const;
const signedNote = z.string().min(1).max(LIMITS.logReportNoteChars);

/**
 * The agent's audit found the edge's log inconsistent: two roots signed for one size (`fork`), a
 * consistency proof that does not verify (`consistency`), or an acknowledged record not proven in
 * the signed log (`inclusion`). The evidence is what the agent holds: the checkpoints the edge
 * signed (verifiable by anyone with its key) and the numbers involved. Sent once per connection
 * while the inconsistency stands; the edge reports it to operators (`log.inconsistency`), rate-limited.
 */
export const logReportSchema = z.object({
  v: version,
  type: z.literal("log_report"),
  lamport,
  kind: z.enum(LOG_REPORT_KINDS),
  reason: z.string().min(1).max(512),
  evidence: z.object({
    /** The checkpoint the agent kept (the last one it verified), and its size. */
    keptSize: count,
    keptNote: signedNote.optional(),
    /** The checkpoint that failed against it, when one did. */
    size: count.optional(),
    note: signedNote.optional(),
    /** For `inclusion`: the record and the global index the edge acknowledged it at. */
    seq: count.optional(),
    index: count.optional(),
  }),
});

/**
 * The agent's signed checkpoint of its own log (C2SP checkpoint, origin and key name
 * `<fleet origin>/agent/<agentId>`, one Ed25519 signature by the device key). Sent only to an edge
 * whose welcome lists the feature "agent-checkpoint", once the edge holds every record it covers.
 */
export const agentCheckpointSchema = z.object({
  v: version,
  type: z.literal("agent_checkpoint"),
  lamport,
  note: z.string().min(1).max(LIMITS.agentCheckpointNoteChars),
});

/**
 * The agent's C2SP cosignature/v1 of a global checkpoint it verified (consistent with every one it
 * kept before): `signature` is base64 of key id ‖ u64 timestamp ‖ Ed25519 signature (76 bytes).
 * The edge derives the cosigner's name from the authenticated agent. Sent only to an edge whose
 * welcome lists the feature "cosignature".
 */
export const cosignatureSchema = z.object({
  v: version,
  type: z.literal("cosignature"),
  lamport,
  size: count,
  root: base64Hash,
  signature: z.string().regex(/^[A-Za-z0-9+/]{102}==$/, "76 bytes in padded base64"),
});

export const agentMessageSchema = z.discriminatedUnion("type", [
  helloSchema,
  summarySchema,
  recordsSchema,
  pingSchema,
  logReportSchema,
  agentCheckpointSchema,
  cosignatureSchema,
]);

// ---- edge → agent ------------------------------------------------------------------------------

export const logHeadSchema = z.object({
  /** Checkpoint origin line, e.g. "edge.example.com/fleet/default". */
  origin: z.string(),
  /** The note verifier key, "name+hash+base64". */
  verifierKey: z.string().nullable(),
  /** The latest signed checkpoint (a C2SP signed note), or null before the first record. */
  checkpoint: z.string().nullable(),
});

export const welcomeSchema = z.object({
  v: version,
  type: z.literal("welcome"),
  agentId: agentIdSchema,
  fleetId: z.string(),
  /** Resume point: records 0 … nextSeq − 1 are acknowledged; send from nextSeq on. */
  resume: z.object({ nextSeq: count, lastAckedSeq: count.nullable() }),
  lamport,
  serverTime: epochMs,
  config: fleetConfigSchema,
  log: logHeadSchema,
  /**
   * Optional messages this edge understands beyond protocol 1's first set (EDGE_FEATURES). An agent
   * sends `agent_checkpoint` / `cosignature` only to an edge that lists them; an older edge lists
   * nothing and would refuse them.
   */
  features: z.array(z.string().max(32)).max(16).optional(),
});

/** The optional features of protocol 1 (welcome.features). */
export const EDGE_FEATURES = ["agent-checkpoint", "cosignature"] as const;

/** Acknowledges records: each `seq` with its index in the global log (also sent again for replays). */
export const ackSchema = z.object({
  v: version,
  type: z.literal("ack"),
  acks: z.array(z.object({ seq: count, index: count })),
  nextSeq: count,
  lamport,
});

/**
 * The fleet's mean field r·e^{iψ} at time `t`, over `n` healthy agents, with mean natural frequency
 * Ω: an agent evaluates ψ(now) = psi + omega·(now − t)/1000.
 */
export const fieldSchema = z.object({
  v: version,
  type: z.literal("field"),
  r: z.number().min(0).max(1),
  psi: finite.min(-Math.PI).max(Math.PI),
  omega: finite.min(-1000).max(1000),
  n: count,
  t: epochMs,
  lamport,
  configVersion: z.number().int().min(1),
});

export const configSchema = z.object({
  v: version,
  type: z.literal("config"),
  config: fleetConfigSchema,
});

/** The latest signed checkpoint of the global log: sent at most every 5 s while the log grows (agents verify, then cosign, the one they are sent). */
export const checkpointSchema = z.object({
  v: version,
  type: z.literal("checkpoint"),
  size: count,
  root: base64Hash,
  note: z.string(),
});

/** The agent's standing in the field: quarantined (weight 0, with the reason) or not. */
export const standingSchema = z.object({
  v: version,
  type: z.literal("standing"),
  quarantined: z.boolean(),
  reason: z.string().nullable(),
  weight: z.number().min(0).max(1),
});

export const pongSchema = z.object({
  v: version,
  type: z.literal("pong"),
  nonce: z.string().max(64),
  serverTime: epochMs,
});

/** Stable error codes of the socket protocol (docs/protocol.md explains each). */
export const PROTOCOL_ERROR_CODES = [
  "bad_json",
  "bad_message",
  "message_too_large",
  "unsupported_version",
  "hello_required",
  "agent_mismatch",
  "rate_limited",
  "bad_signature",
  "bad_record",
  "seq_gap",
  "seq_conflict",
  "lamport_replay",
  "lamport_jump",
  "bad_checkpoint",
  "checkpoint_ahead",
  "agent_log_inconsistent",
  "unknown_checkpoint",
  "bad_cosignature",
  "internal_error",
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export const errorSchema = z.object({
  v: version,
  type: z.literal("error"),
  code: z.enum(PROTOCOL_ERROR_CODES),
  message: z.string(),
  /** The `type` of the message that caused it, when known. */
  ref: z.string().optional(),
  /** The numbers involved (e.g. expected and received seq). */
  details: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).optional(),
});

export const edgeMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  ackSchema,
  fieldSchema,
  configSchema,
  checkpointSchema,
  standingSchema,
  pongSchema,
  errorSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type Summary = z.infer<typeof summarySchema>;
export type RecordsBatch = z.infer<typeof recordsSchema>;
export type Ping = z.infer<typeof pingSchema>;
export type LogReport = z.infer<typeof logReportSchema>;
export type AgentCheckpointMessage = z.infer<typeof agentCheckpointSchema>;
export type CosignatureMessage = z.infer<typeof cosignatureSchema>;
export type AgentMessage = z.infer<typeof agentMessageSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type FieldMessage = z.infer<typeof fieldSchema>;
export type ConfigMessage = z.infer<typeof configSchema>;
export type CheckpointMessage = z.infer<typeof checkpointSchema>;
export type Standing = z.infer<typeof standingSchema>;
export type Pong = z.infer<typeof pongSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type EdgeMessage = z.infer<typeof edgeMessageSchema>;

/** Distributes Omit over a union, so each member keeps its own fields. */
export type WithoutVersion<T> = T extends unknown ? Omit<T, "v"> : never;
