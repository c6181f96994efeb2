/**
 * The config form's browser-side checks agree with the edge's schema: every value the form accepts
 * the schema accepts, and every value it refuses the schema refuses (both built from
 * shared/protocol/config-bounds.ts, checked here against the zod schema itself).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_FLEET_CONFIG, fleetConfigPatchSchema } from "../../shared/protocol/config.js";
import { CONFIG_FIELDS, buildPatch, describeBound, fieldValue, parseField, type ConfigFieldKey } from "../../dashboard/views/config-form.js";

const texts = (over: Partial<Record<ConfigFieldKey, string>> = {}) =>
  Object.fromEntries(CONFIG_FIELDS.map((f) => [f.key, over[f.key] ?? String(fieldValue(DEFAULT_FLEET_CONFIG, f.key))])) as Record<ConfigFieldKey, string>;

function patchFor(key: ConfigFieldKey, value: number): unknown {
  return key.startsWith("drift.") ? { drift: { [key.slice(6)]: value } } : { [key]: value };
}

describe("config form", () => {
  it("accepts and refuses exactly what the edge's patch schema does", () => {
    const probes = [-1, -0.001, 0, 0.001, 0.5, 1, 1.5, 3.14, Math.PI, 3.2, 10, 10.5, 100, 100.1, 499, 500, 500.5, 999, 1000, 600_000, 600_001, 3_600_000, 3_600_001, 1e9];
    for (const field of CONFIG_FIELDS) {
      for (const v of probes) {
        const form = parseField(field, String(v)).ok;
        const edge = fleetConfigPatchSchema.safeParse(patchFor(field.key, v)).success;
        expect(form, `${field.key}=${v}`).toBe(edge);
      }
    }
  });

  it("refuses text that is not a plain number, with the field's name and range", () => {
    const coupling = CONFIG_FIELDS.find((f) => f.key === "coupling")!;
    for (const t of ["", " ", "abc", "0x10", "1,5", "Infinity", "NaN", "1e999"]) expect(parseField(coupling, t).ok, t).toBe(false);
    expect(parseField(coupling, "101")).toEqual({ ok: false, error: "Coupling K must be from 0 to 100" });
    const peer = CONFIG_FIELDS.find((f) => f.key === "peerAgeMs")!;
    expect(parseField(peer, "1000.5")).toEqual({ ok: false, error: "Peer age must be a whole number from 500 to 600000" });
    expect(describeBound(CONFIG_FIELDS.find((f) => f.key === "summaryHz")!.bound)).toBe("greater than 0 and at most 10");
  });

  it("builds a patch of the changed values only, drift nested", () => {
    expect(buildPatch(DEFAULT_FLEET_CONFIG, texts())).toEqual({ errors: {}, patch: {} });
    const r = buildPatch(DEFAULT_FLEET_CONFIG, texts({ coupling: "3", "drift.maxCausalOvershoot": "6" }));
    expect(r).toEqual({ errors: {}, patch: { coupling: 3, drift: { maxCausalOvershoot: 6 } } });
    expect(fleetConfigPatchSchema.safeParse(r.patch).success).toBe(true);
    const bad = buildPatch(DEFAULT_FLEET_CONFIG, texts({ summaryHz: "0" }));
    expect(bad.errors.summaryHz).toMatch(/Summary rate must be greater than 0/);
    expect(bad.patch).toEqual({});
    // Skipping the browser's checks sends the value as typed (the edge then refuses it).
    expect(buildPatch(DEFAULT_FLEET_CONFIG, texts({ summaryHz: "0" }), { skipValidation: true }).patch).toEqual({ summaryHz: 0 });
  });
});
