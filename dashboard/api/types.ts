/**
 * The shapes the dashboard reads from the edge's admin API (docs/api.md). Declared here rather than
 * imported from edge/ or shared/protocol so the browser bundle pulls in no zod and no Worker types.
 */
export interface FleetConfigView {
  readonly version: number;
  readonly coupling: number;
  readonly summaryHz: number;
  readonly fieldHz: number;
  readonly maxStep: number;
  readonly peerAgeMs: number;
  readonly offlineAfterMs: number;
  readonly drift: { readonly maxCausalOvershoot: number; readonly maxPhaseGap: number; readonly minPeerCoherence: number };
}

export interface FleetView {
  readonly fleetId: string;
  readonly origin: string;
  readonly audience: string;
  readonly config: FleetConfigView;
  readonly lamport: number;
  readonly agents: { readonly total: number; readonly active: number; readonly pending: number; readonly revoked: number; readonly online: number; readonly quarantined: number };
  readonly field: { readonly r: number; readonly psi: number; readonly omega: number; readonly n: number; readonly t: number };
  readonly log: { readonly size: number; readonly checkpoint: { readonly size: number; readonly root: string; readonly createdAt: string } | null };
}

export type AgentStatus = "pending" | "active" | "revoked";

export interface AgentView {
  readonly id: string;
  readonly name: string;
  readonly hardware: string | null;
  readonly status: AgentStatus;
  readonly publicKey: { readonly kty: "OKP"; readonly crv: "Ed25519"; readonly x: string };
  readonly enrolledAt: string;
  readonly approvedAt: string | null;
  readonly revokedAt: string | null;
  readonly connected: boolean;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
  readonly software: string | null;
  readonly nextSeq: number;
  readonly lamport: number | null;
  readonly quarantine: { readonly reason: string; readonly since: string | null } | null;
  readonly inField: boolean;
  readonly summary: { readonly t: string | null; readonly theta: number; readonly omega: number; readonly coherence: number; readonly tokenHz: number } | null;
  readonly agentLog: { readonly size: number; readonly root: string } | null;
}

/** An entry as GET /v1/log/entries serves it. */
export interface EntryJson {
  readonly index: number;
  readonly agentId: string;
  readonly seq: number;
  readonly leaf: string;
  readonly record: { readonly kind: string; readonly timestamp: number | string; readonly payloadJson: string; readonly signature: string };
}

export interface AgentRecord {
  readonly index: number;
  readonly seq: number;
  readonly kind: string;
  readonly lamport: number | null;
  readonly t: string;
  readonly entry: EntryJson;
}

export interface AgentRecordsPage {
  readonly records: AgentRecord[];
  readonly nextBefore: number | null;
}
