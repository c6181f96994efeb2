import type { MeanField } from "../../shared/kuramoto/index.js";
import { bytesToBase64, type FleetConfig } from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { Field } from "./field.js";
import type { FleetClock } from "./fleet-clock.js";
import type { FleetIdentity } from "./fleet-identity.js";
import type { GlobalLog } from "./global-log.js";
import { agentView, getAgentRow, listAgentRows, standingReason, type AgentRow, type AgentView } from "./registry.js";
import type { SqlDatabase } from "./sql-database.js";

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
