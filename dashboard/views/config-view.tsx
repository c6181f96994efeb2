/**
 * Fleet config: coupling K, rates, presence and quarantine settings. Values are checked here
 * against the same bounds the edge's schema uses (config-form.ts) before the PATCH; the edge's own
 * refusal, if any, is shown as it says it.
 */
import { useEffect, useState } from "preact/hooks";
import type { FleetConfig, FleetView } from "../../shared/api/index.js";
import { apiJson } from "../api/client.js";
import { CONFIG_FIELDS, buildPatch, describeBound, fieldValue, type ConfigField, type ConfigFieldKey } from "./config-form.js";
import { ErrorNote, useLoad } from "./view-kit.js";

const GROUPS: readonly { readonly id: ConfigField["group"]; readonly legend: string }[] = [
  { id: "coupling", legend: "Coupling" },
  { id: "rates", legend: "Rates" },
  { id: "presence", legend: "Presence" },
  { id: "quarantine", legend: "Quarantine (drift rules)" },
];

type Texts = Record<ConfigFieldKey, string>;

function textsOf(config: FleetConfig): Texts {
  return Object.fromEntries(CONFIG_FIELDS.map((f) => [f.key, String(fieldValue(config, f.key))])) as Texts;
}

const inputId = (key: ConfigFieldKey): string => `cfg-${key.replace(".", "-")}`;

export function ConfigView() {
  const fleet = useLoad(() => apiJson<FleetView>("GET", "/v1/fleet"));
  const [config, setConfig] = useState<FleetConfig | null>(null);
  const [texts, setTexts] = useState<Texts | null>(null);
  const [errors, setErrors] = useState<Partial<Record<ConfigFieldKey, string>>>({});
  const [edgeError, setEdgeError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [edgeOnly, setEdgeOnly] = useState(false);

  useEffect(() => {
    if (fleet.data !== null) {
      setConfig(fleet.data.config);
      setTexts(textsOf(fleet.data.config));
    }
  }, [fleet.data]);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (config === null || texts === null) return;
    setSaved(null);
    setEdgeError(null);
    const { errors: found, patch } = buildPatch(config, texts, { skipValidation: edgeOnly });
    setErrors(found);
    const first = CONFIG_FIELDS.find((f) => found[f.key] !== undefined);
    if (first !== undefined) {
      document.getElementById(inputId(first.key))?.focus();
      return;
    }
    if (Object.keys(patch).length === 0) {
      setSaved("Nothing changed.");
      return;
    }
    setBusy(true);
    try {
      const next = await apiJson<FleetConfig>("PATCH", "/v1/fleet/config", patch);
      setConfig(next);
      setTexts(textsOf(next));
      setSaved(`Saved: config version ${next.version}, pushed to connected agents.`);
    } catch (e) {
      setEdgeError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section data-view="config" class="config-view" aria-labelledby="config-title">
      <div class="view-head">
        <h1 id="config-title">Fleet config</h1>
        {config !== null ? <span class="muted">version {config.version}</span> : null}
      </div>
      <ErrorNote error={fleet.error} />
      {texts !== null && config !== null ? (
        <form class="config-form" onSubmit={(e) => void submit(e)} noValidate>
          {GROUPS.map((g) => (
            <fieldset key={g.id} class="card">
              <legend>{g.legend}</legend>
              <div class="fields">
                {CONFIG_FIELDS.filter((f) => f.group === g.id).map((f) => {
                  const id = inputId(f.key);
                  const err = errors[f.key];
                  return (
                    <div class="field" key={f.key}>
                      <label for={id}>
                        {f.label}
                        {f.unit !== "" ? <span class="muted"> ({f.unit})</span> : null}
                      </label>
                      <input
                        id={id}
                        name={f.key}
                        type="text"
                        inputMode="decimal"
                        autocomplete="off"
                        value={texts[f.key]}
                        onInput={(e) => setTexts({ ...texts, [f.key]: e.currentTarget.value })}
                        aria-invalid={err !== undefined}
                        aria-describedby={`${id}-help${err !== undefined ? ` ${id}-error` : ""}`}
                      />
                      <p id={`${id}-help`} class="help">
                        {f.help} Allowed: {describeBound(f.bound)}.
                      </p>
                      {err !== undefined ? (
                        <p id={`${id}-error`} class="field-error" data-testid="field-error">
                          {err}
                        </p>
                      ) : null}
                    </div>
                  );
                })}
              </div>
            </fieldset>
          ))}
          <div class="card form-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              onClick={() => {
                setTexts(textsOf(config));
                setErrors({});
                setEdgeError(null);
                setSaved(null);
              }}
            >
              Reset
            </button>
            <label class="check skip-checks">
              <input type="checkbox" checked={edgeOnly} onChange={(e) => setEdgeOnly(e.currentTarget.checked)} />
              Skip the browser's checks (let the edge judge the values)
            </label>
            {Object.keys(errors).length > 0 ? (
              <p class="error-note" role="alert" data-testid="config-invalid">
                {Object.keys(errors).length === 1 ? "One value is" : `${Object.keys(errors).length} values are`} out of range; nothing was sent.
              </p>
            ) : null}
            <ErrorNote error={edgeError} testId="edge-error" />
            {saved !== null ? (
              <p class="note-ok" role="status" data-testid="config-saved">
                {saved}
              </p>
            ) : null}
          </div>
        </form>
      ) : fleet.loading ? (
        <p class="muted">Loading…</p>
      ) : null}
    </section>
  );
}
