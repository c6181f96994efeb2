import type { SqlDatabase } from "../fleet/sql-database.js";
import { generateSecret, type DisabledReason, type EndpointView, type EventType } from "../../shared/webhooks/index.js";

/**
 * Endpoints and their signing secrets (tables webhook_endpoints, webhook_secrets). A rotation keeps
 * the previous secret signing for ROTATION_OVERLAP_MS, so receivers can switch without a gap.
 */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** Secrets signing at once: the newest plus rotated ones still within their overlap. */
export const MAX_SECRETS = 3;
export const MAX_ENDPOINTS = 20;

export interface EndpointRow {
  id: string;
  url: string;
  description: string;
  event_types: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  [column: string]: string | number | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function eventTypesOf(row: EndpointRow): EventType[] {
  return JSON.parse(row.event_types) as EventType[];
}

/** True when the endpoint wants events of this type (an empty list = every type). */
export function subscribes(row: EndpointRow, type: string): boolean {
  const types = eventTypesOf(row);
  return types.length === 0 || (types as string[]).includes(type);
}

export function getEndpointRow(sql: SqlDatabase, id: string): EndpointRow | null {
  return sql.exec<EndpointRow>(`SELECT * FROM webhook_endpoints WHERE id = ?`, id).toArray()[0] ?? null;
}

export function listEndpointRows(sql: SqlDatabase): EndpointRow[] {
  return sql.exec<EndpointRow>(`SELECT * FROM webhook_endpoints ORDER BY created_at, id`).toArray();
}

export function countEndpoints(sql: SqlDatabase): number {
  return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_endpoints`).one().n;
}

export function countEnabledEndpoints(sql: SqlDatabase): number {
  return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_endpoints WHERE enabled = 1`).one().n;
}

export function endpointView(sql: SqlDatabase, row: EndpointRow, now: number): EndpointView {
  const secrets = sql
    .exec<{ created_at: number; expires_at: number | null }>(
      `SELECT created_at, expires_at FROM webhook_secrets WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC`,
      row.id,
      now,
    )
    .toArray();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: eventTypesOf(row),
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason as DisabledReason | null,
    disabledAt: iso(row.disabled_at),
    failingSince: iso(row.failing_since),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    secrets: secrets.map((s) => ({ createdAt: iso(s.created_at)!, expiresAt: iso(s.expires_at) })),
  };
}

export interface NewEndpoint {
  readonly id: string;
  readonly url: string;
  readonly eventTypes: readonly EventType[];
  readonly enabled: boolean;
  readonly description: string;
}

/** Inserts the endpoint and its first secret; returns the secret text (shown once). */
export function insertEndpoint(sql: SqlDatabase, endpoint: NewEndpoint, now: number): string {
  sql.exec(
    `INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, disabled_reason, disabled_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    endpoint.id,
    endpoint.url,
    endpoint.description,
    JSON.stringify(endpoint.eventTypes),
    endpoint.enabled ? 1 : 0,
    endpoint.enabled ? null : "operator",
    endpoint.enabled ? null : now,
    now,
    now,
  );
  const secret = generateSecret();
  sql.exec(`INSERT INTO webhook_secrets (endpoint_id, secret, created_at, expires_at) VALUES (?, ?, ?, NULL)`, endpoint.id, secret, now);
  return secret;
}

export interface EndpointChanges {
  readonly url?: string;
  readonly eventTypes?: readonly EventType[];
  readonly description?: string;
  readonly enabled?: boolean;
}

export function updateEndpoint(sql: SqlDatabase, row: EndpointRow, changes: EndpointChanges, now: number): void {
  const enabled = changes.enabled ?? row.enabled === 1;
  const wasEnabled = row.enabled === 1;
  sql.exec(
    `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?, disabled_at = ?,
       failing_since = ?, updated_at = ? WHERE id = ?`,
    changes.url ?? row.url,
    changes.description ?? row.description,
    changes.eventTypes === undefined ? row.event_types : JSON.stringify(changes.eventTypes),
    enabled ? 1 : 0,
    enabled ? null : wasEnabled ? "operator" : row.disabled_reason,
    enabled ? null : wasEnabled ? now : row.disabled_at,
    // Re-enabling starts the 5-day failure clock afresh.
    enabled && !wasEnabled ? null : row.failing_since,
    now,
    row.id,
  );
}

/** Disables an endpoint for a delivery reason (410 Gone, failing for 5 days). */
export function disableEndpoint(sql: SqlDatabase, id: string, reason: DisabledReason, now: number): void {
  sql.exec(`UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1`, reason, now, now, id);
}

export function setFailingSince(sql: SqlDatabase, id: string, failingSince: number | null): void {
  sql.exec(`UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?`, failingSince, id);
}

export function deleteEndpoint(sql: SqlDatabase, id: string): void {
  sql.exec(`DELETE FROM webhook_secrets WHERE endpoint_id = ?`, id);
  sql.exec(`DELETE FROM webhook_attempts WHERE endpoint_id = ?`, id);
  sql.exec(`DELETE FROM webhook_messages WHERE endpoint_id = ?`, id);
  sql.exec(`DELETE FROM webhook_endpoints WHERE id = ?`, id);
}

/**
 * A new secret; the ones signing now keep signing until `now + ROTATION_OVERLAP_MS` (an earlier
 * expiry is kept). Beyond MAX_SECRETS the oldest stop at once. Returns the new secret text.
 */
export function rotateSecret(sql: SqlDatabase, id: string, now: number): { secret: string; previousValidUntil: number } {
  const until = now + ROTATION_OVERLAP_MS;
  sql.exec(`DELETE FROM webhook_secrets WHERE endpoint_id = ? AND expires_at IS NOT NULL AND expires_at <= ?`, id, now);
  sql.exec(`UPDATE webhook_secrets SET expires_at = ? WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)`, until, id, until);
  const secret = generateSecret();
  sql.exec(`INSERT INTO webhook_secrets (endpoint_id, secret, created_at, expires_at) VALUES (?, ?, ?, NULL)`, id, secret, now);
  sql.exec(
    `DELETE FROM webhook_secrets WHERE endpoint_id = ? AND id NOT IN (SELECT id FROM webhook_secrets WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?)`,
    id,
    id,
    MAX_SECRETS,
  );
  return { secret, previousValidUntil: until };
}

/** The secrets that sign an attempt at `now`, newest first. */
export function signingSecrets(sql: SqlDatabase, id: string, now: number): string[] {
  return sql
    .exec<{ secret: string }>(`SELECT secret FROM webhook_secrets WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC`, id, now)
    .toArray()
    .map((row) => row.secret);
}
