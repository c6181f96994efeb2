/**
 * The admin API's answers (docs/api.md) as plain types: the edge builds them, the dashboard and the
 * live channel read them. Types only, imported with `import type`, so the browser bundle gets no zod
 * (FleetConfig is the schema's inferred type; the import is erased) and no Worker types.
 */
import type { MeanField } from "../kuramoto/index.js";
import type { FleetConfig } from "../protocol/config.js";

export type { FleetConfig, MeanField };

export type AgentStatus = "pending" | "active" | "revoked";

/** The operator's view of an agent: GET /v1/agents, /v1/agents/:id. */
export interface AgentView {
  readonly id: string;
  readonly name: string;
  readonly hardware: string | null;
  readonly status: AgentStatus;
  readonly publicKey: { readonly kty: "OKP"; readonly crv: "Ed25519"; readonly x: string };
  readonly enrolledAt: string;
  readonly approvedAt: string | null;
  readonly revokedAt: string | null;
  readonly enrollmentTokenId: string;
  readonly connected: boolean;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
  readonly software: string | null;
  readonly nextSeq: number;
  readonly lamport: number | null;
  readonly quarantine: { readonly reason: string; readonly since: string | null } | null;
  readonly weight: number;
  readonly inField: boolean;
  readonly summary: {
    readonly receivedAt: string;
    readonly t: string | null;
    readonly theta: number;
    readonly omega: number;
    readonly coherence: number;
    readonly tokenHz: number;
  } | null;
  readonly agentLog: { readonly size: number; readonly root: string } | null;
}

/** The fleet at a glance: GET /v1/fleet, and the live channel's `fleet`. */
export interface FleetView {
  readonly fleetId: string;
  readonly origin: string;
  readonly audience: string;
  readonly config: FleetConfig;
  readonly lamport: number;
  readonly agents: { readonly total: number; readonly active: number; readonly pending: number; readonly revoked: number; readonly online: number; readonly quarantined: number };
  readonly field: MeanField;
  readonly log: { readonly size: number; readonly checkpoint: { readonly size: number; readonly root: string; readonly createdAt: string } | null };
}

/** One entry of GET /v1/log/entries. */
/** One entry of GET /v1/log/entries: a record, an agent checkpoint or a key event (docs/log.md). */
export type EntryJson = RecordEntryJson | AgentCheckpointEntryJson | KeyEntryJson;

interface EntryJsonBase {
  readonly index: number;
  readonly agentId: string;
  /** The canonical entry bytes (the Merkle leaf data), standard base64. */
  readonly leaf: string;
}

export interface RecordEntryJson extends EntryJsonBase {
  readonly type: "record";
  readonly seq: number;
  readonly record: { readonly kind: string; readonly timestamp: number; readonly payloadJson: string; readonly signature: string };
}

/** An agent's signed checkpoint of its own log, committed to the global log. */
export interface AgentCheckpointEntryJson extends EntryJsonBase {
  readonly type: "agent-checkpoint";
  readonly checkpoint: { readonly size: number; readonly note: string };
}

/** An agent's key event: enrolled, approved or revoked, with the key. */
export interface KeyEntryJson extends EntryJsonBase {
  readonly type: "key";
  readonly key: { readonly event: "enrolled" | "approved" | "revoked"; readonly publicKey: string; readonly timestamp: number };
}

/** One record of GET /v1/agents/:id/records. */
export interface AgentRecordView {
  readonly index: number;
  readonly seq: number;
  readonly kind: string;
  /** The payload's own `lamport` when it carries one (records have no clock field), else null. */
  readonly lamport: number | null;
  /** The record's timestamp, ISO 8601 UTC. */
  readonly t: string;
  readonly entry: RecordEntryJson;
}

export interface AgentRecordsPage {
  readonly records: AgentRecordView[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

/** An enrollment token as GET /v1/enrollment-tokens lists it (never its secret). */
export interface TokenView {
  readonly id: string;
  readonly name: string | null;
  readonly maxUses: number;
  readonly uses: number;
  readonly requireApproval: boolean;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
}

/** A new enrollment token as the fleet issues it. */
export interface IssuedToken {
  readonly id: string;
  /** The secret, shown once; only its SHA-256 is stored. */
  readonly token: string;
  readonly name: string | null;
  readonly expiresAt: string;
  readonly maxUses: number;
  readonly requireApproval: boolean;
}

/** POST /v1/enrollment-tokens's answer: the issued token and the fleet it enrolls into. */
export interface CreatedToken extends IssuedToken {
  readonly fleetId: string;
}

/** One key entry (0x03) of an agent in the global log. */
export interface AgentKeyEventJson {
  readonly event: "enrolled" | "approved" | "revoked";
  /** The Ed25519 public key, 32 bytes, standard base64. */
  readonly publicKey: string;
  /** The global log index of the key entry. */
  readonly index: number;
  /** The entry's timestamp, UTC epoch ms. */
  readonly at: number;
}

/** GET /v1/log/agents/:agentId/keys: an agent's key history from the global log, and its key names. */
/** GET /v1/log/agents/:agentId/checkpoint's answer. */
export interface AgentCheckpointJson {
  readonly agentId: string;
  readonly origin: string;
  readonly size: number;
  /** base64 */
  readonly root: string;
  /** The signed note exactly as the agent sent it (and as the global log's 0x02 entry holds it). */
  readonly note: string;
  /** Global log index of that 0x02 entry. */
  readonly index: number;
  /** When the edge accepted it, epoch ms. */
  readonly receivedAt: number;
}

export interface AgentKeysJson {
  readonly agentId: string;
  /** The agent log's origin, also the key name of its checkpoint signatures. */
  readonly origin: string;
  /** The key name of its cosignatures. */
  readonly witness: string;
  readonly keys: readonly AgentKeyEventJson[];
  /** The note verifier key (type 0x01) of the agent's current key, for its agent checkpoints. */
  readonly verifierKey: string;
  /** The cosignature verifier key (type 0x04) of the agent's current key. */
  readonly cosignerKey: string;
}
