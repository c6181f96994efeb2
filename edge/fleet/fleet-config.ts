import {
  DEFAULT_FLEET_CONFIG,
  fleetConfigSchema,
  type FleetConfig,
  type FleetConfigPatch,
} from "../../shared/protocol/index.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import type { FleetIdentity } from "./fleet-identity.js";
import { appendOutbox } from "./outbox.js";
import type { FleetStorage, SqlDatabase } from "./sql-database.js";
import { readMeta, writeMeta } from "./fleet-identity.js";

/** The fleet's config, kept as JSON in `meta`. */

export function readConfig(sql: SqlDatabase): FleetConfig {
  const text = readMeta(sql, "config");
  if (text === undefined) return DEFAULT_FLEET_CONFIG;
  const parsed = fleetConfigSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : DEFAULT_FLEET_CONFIG;
}

/** Applies an operator's patch; the version grows by one. Returns the new config. */
export function patchConfig(sql: SqlDatabase, patch: FleetConfigPatch): FleetConfig {
  const current = readConfig(sql);
  const { drift, ...rest } = patch;
  const next = fleetConfigSchema.parse({
    ...current,
    ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
    drift: { ...current.drift, ...Object.fromEntries(Object.entries(drift ?? {}).filter(([, value]) => value !== undefined)) },
    version: current.version + 1,
  });
  writeMeta(sql, "config", JSON.stringify(next));
  return next;
}

/** An operator's patch through the fleet's cached config, with its `fleet.config` event; 400 invalid_config when the result is invalid. */
export function applyConfigPatch(storage: FleetStorage, identity: FleetIdentity, patch: FleetConfigPatch, now: number): Outcome<FleetConfig> {
  try {
    return success(
      storage.transaction(() => {
        const next = identity.updateConfig(patch);
        appendOutbox(storage.sql, "fleet.config", { version: next.version }, now);
        return next;
      }),
    );
  } catch (err) {
    return failure(400, "invalid_config", `the resulting config is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
}
