import type { MeanField } from "../../shared/kuramoto/index.js";
import { bytesToBase64, type FleetConfig } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { Field } from "./field.js";
import type { FleetClock } from "./fleet-clock.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import { getAgentRow, listAgentRows, standingReason, type AgentRow, type AgentStatus } from "./registry.js";
import type { SqlDatabase } from "./sql-database.js";

/** The operator's view of an agent. */
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

export interface ViewParts {
  readonly sql: SqlDatabase;
  readonly identity: FleetIdentity;
  readonly clock: FleetClock;
  readonly field: Field;
  readonly log: GlobalLog;
}

/** The operator's read models: agents and the fleet at a glance. Reads only. */
export class FleetViews {
  readonly #parts: ViewParts;

  constructor(parts: ViewParts) {
    this.#parts = parts;
  }

  agents(now: number): AgentView[] {
    const { sql, field } = this.#parts;
    const excludes = field.driftExcludes(now);
    return listAgentRows(sql).map((row) => agentView(row, field.includes(row, now, excludes)));
  }

  agent(agentId: string, now: number): Outcome<AgentView> {
    const row = getAgentRow(this.#parts.sql, agentId);
    if (row === undefined) return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${this.#parts.identity.fleetId}`);
    return success(this.ofRow(row, now));
  }

  ofRow(row: AgentRow, now: number): AgentView {
    return agentView(row, this.#parts.field.includes(row, now));
  }

  fleet(now: number): FleetView {
    const { sql, identity, clock, field, log } = this.#parts;
    const rows = listAgentRows(sql);
    const checkpoint = log.latestCheckpoint();
    return {
      fleetId: identity.fleetId,
      origin: identity.origin,
      audience: identity.audience,
      config: identity.config(),
      lamport: clock.value(),
      agents: {
        total: rows.length,
        active: rows.filter((r) => r.status === "active").length,
        pending: rows.filter((r) => r.status === "pending").length,
        revoked: rows.filter((r) => r.status === "revoked").length,
        online: rows.filter((r) => r.online === 1).length,
        quarantined: rows.filter((r) => standingReason(r) !== null).length,
      },
      field: field.compute(now),
      log: {
        size: log.size,
        checkpoint: checkpoint === undefined ? null : { size: checkpoint.size, root: bytesToBase64(checkpoint.root), createdAt: new Date(checkpoint.createdAt).toISOString() },
      },
    };
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function agentView(row: AgentRow, inField: boolean): AgentView {
  const reason = standingReason(row);
  return {
    id: row.id,
    name: row.name,
    hardware: row.hardware,
    status: row.status,
    publicKey: { kty: "OKP", crv: "Ed25519", x: row.public_key_x },
    enrolledAt: iso(row.enrolled_at)!,
    approvedAt: iso(row.approved_at),
    revokedAt: iso(row.revoked_at),
    enrollmentTokenId: row.token_id,
    connected: row.connected === 1,
    online: row.online === 1,
    lastSeenAt: iso(row.last_seen_at),
    software: row.software,
    nextSeq: row.next_seq,
    lamport: row.lamport,
    quarantine: reason === null ? null : { reason, since: iso(row.quarantined_at) },
    weight: reason === null ? 1 : 0,
    inField,
    summary:
      row.summary_received_at === null || row.theta === null
        ? null
        : {
            receivedAt: iso(row.summary_received_at)!,
            t: iso(row.summary_t),
            theta: row.theta,
            omega: row.omega ?? 0,
            coherence: row.coherence ?? 0,
            tokenHz: row.token_hz ?? 0,
          },
    agentLog: row.agent_log_size === null || row.agent_log_root === null ? null : { size: row.agent_log_size, root: row.agent_log_root },
  };
}
