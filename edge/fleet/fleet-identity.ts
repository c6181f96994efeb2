import { parseSignerKey, type NoteSigner } from "../../shared/note/index.js";
import type { FleetConfig, FleetConfigPatch } from "../../shared/protocol/index.js";
import { patchConfig, readConfig } from "./fleet-config.js";
import type { FleetScope } from "./scope.js";
import { migrateSchema, SCHEMA_VERSION } from "./sql-schema.js";
import type { SqlDatabase } from "./sql-database.js";

/** The `meta` table: one text value per key. */
export function readMeta(sql: SqlDatabase, key: string): string | undefined {
  return sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0]?.value;
}

export function writeMeta(sql: SqlDatabase, key: string, value: string): void {
  sql.exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value);
}

/** The settings identity depends on (the Worker's env). */
export interface IdentitySettings {
  readonly LOG_ORIGIN?: string | undefined;
  readonly LOG_SIGNING_KEY?: string | undefined;
}

/**
 * Who the fleet is (id, checkpoint origin, JWT audience, note signer) and its config, kept in
 * `meta`; also opens the schema. Values read often are cached: they change only through here.
 */
export class FleetIdentity {
  readonly #sql: SqlDatabase;
  readonly #settings: IdentitySettings;
  #schemaReady = false;
  #signer: NoteSigner | null | undefined;
  #config: FleetConfig | undefined;

  constructor(sql: SqlDatabase, settings: IdentitySettings) {
    this.#sql = sql;
    this.#settings = settings;
  }

  /**
   * Opens the schema (once per wake-up) and, given a scope, fixes the fleet's identity on first use.
   * `create` false: a fleet nobody created stays nonexistent (nothing is written). Returns whether
   * the fleet exists, and whether the schema was opened by this call (the caller reconciles then).
   */
  open(scope: FleetScope | undefined, create: boolean): { exists: boolean; opened: boolean } {
    let opened = false;
    if (!this.#schemaReady) {
      const hasSchema = this.#sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).toArray().length > 0;
      if (!hasSchema && !create) return { exists: false, opened };
      migrateSchema(this.#sql);
      if (readMeta(this.#sql, "schema_version") === undefined) writeMeta(this.#sql, "schema_version", String(SCHEMA_VERSION));
      this.#schemaReady = opened = true;
    }
    if (scope !== undefined && readMeta(this.#sql, "fleet_id") === undefined) {
      if (!create) return { exists: false, opened };
      // The first request fixes the fleet's identity; the origin must never change afterwards, or
      // checkpoints would stop verifying against what auditors pinned.
      writeMeta(this.#sql, "fleet_id", scope.fleetId);
      const configured = this.#settings.LOG_ORIGIN?.trim();
      writeMeta(this.#sql, "origin", configured ? configured.replaceAll("{fleet}", scope.fleetId) : `${scope.host}/fleet/${scope.fleetId}`);
    }
    return { exists: true, opened };
  }

  get fleetId(): string {
    return readMeta(this.#sql, "fleet_id") ?? "default";
  }

  /** The checkpoint origin, once fixed. */
  get fixedOrigin(): string | undefined {
    return readMeta(this.#sql, "origin");
  }

  get origin(): string {
    return this.fixedOrigin ?? `fleet/${this.fleetId}`;
  }

  /** The JWT audience agents of this fleet must use. */
  get audience(): string {
    return `urn:becomingone:fleet:${this.fleetId}`;
  }

  /** The checkpoint signer from LOG_SIGNING_KEY, or null when unset or unreadable. */
  signer(): NoteSigner | null {
    if (this.#signer === undefined) {
      try {
        this.#signer = this.#settings.LOG_SIGNING_KEY ? parseSignerKey(this.#settings.LOG_SIGNING_KEY.trim()) : null;
      } catch {
        this.#signer = null;
      }
    }
    return this.#signer;
  }

  config(): FleetConfig {
    this.#config ??= readConfig(this.#sql);
    return this.#config;
  }

  /** Applies an operator's patch; throws (zod) when the result is invalid, changing nothing. */
  updateConfig(patch: FleetConfigPatch): FleetConfig {
    this.#config = patchConfig(this.#sql, patch);
    return this.#config;
  }

  /** The next fleet-wide socket generation (connection.ts: the newest socket is the current one). */
  nextSocketGeneration(): number {
    const generation = Number(readMeta(this.#sql, "socket_generation") ?? "0") + 1;
    writeMeta(this.#sql, "socket_generation", String(generation));
    return generation;
  }
}
