import type { AgentView, FleetView } from "../../shared/api/index.js";
import { bytesToBase64 } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { Field } from "./field.js";
import type { FleetClock } from "./fleet-clock.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import type { AgentRows } from "./agent-rows.js";
import { standingReason, type AgentRow } from "./registry.js";

// The answers' shapes live in shared/api (the dashboard reads them too); re-exported for edge callers.
export type { AgentView, FleetView };

export interface ViewParts {
  readonly rows: AgentRows;
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
    const { rows, field } = this.#parts;
    const excludes = field.driftExcludes(now);
    return rows.list().map((row) => agentView(row, field.includes(row, now, excludes)));
  }

  agent(agentId: string, now: number): Outcome<AgentView> {
    const row = this.#parts.rows.get(agentId);
    if (row === undefined) return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${this.#parts.identity.fleetId}`);
    return success(this.ofRow(row, now));
  }

  ofRow(row: AgentRow, now: number): AgentView {
    return agentView(row, this.#parts.field.includes(row, now));
  }

  fleet(now: number): FleetView {
    const { identity, clock, field, log } = this.#parts;
    const rows = this.#parts.rows.list();
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
