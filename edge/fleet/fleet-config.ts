import {
  DEFAULT_FLEET_CONFIG,
  fleetConfigSchema,
  type FleetConfig,
  type FleetConfigPatch,
} from "../../shared/protocol/index.js";

/** Fleet identity and configuration kept in the `meta` table. */

export function readMeta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0]?.value;
}

export function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value);
}

export function readConfig(sql: SqlStorage): FleetConfig {
  const text = readMeta(sql, "config");
  if (text === undefined) return DEFAULT_FLEET_CONFIG;
  const parsed = fleetConfigSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : DEFAULT_FLEET_CONFIG;
}

/** Applies an operator's patch; the version grows by one. Returns the new config. */
export function patchConfig(sql: SqlStorage, patch: FleetConfigPatch): FleetConfig {
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
