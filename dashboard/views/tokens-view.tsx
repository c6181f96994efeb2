/**
 * Enrollment tokens: create one (name, uses, lifetime, approval) and see its secret once with the
 * ready-to-paste `becomingone-agent enroll` command; list them with uses and expiry; revoke.
 */
import { useState } from "preact/hooks";
import type { CreatedToken, TokenView } from "../../shared/api/index.js";
import { apiJson } from "../api/client.js";
import { enrollCommand } from "./enroll-command.js";
import { CopyButton, ErrorNote, OnceSecret, RegionTable, isoShort, useAction, useLoad, type ColumnHead } from "./view-kit.js";

/** Lifetimes offered (the API allows 1 s – 30 days). */
const LIFETIMES: readonly { readonly seconds: number; readonly label: string }[] = [
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 7 * 86_400, label: "7 days" },
  { seconds: 30 * 86_400, label: "30 days" },
];

const MAX_USES = 10_000;

const TOKEN_COLUMNS: readonly ColumnHead[] = [
  { label: "Name" },
  { label: "Status" },
  { label: "Uses", class: "num" },
  { label: "Expires" },
  { label: "Approval" },
  { label: "Id" },
  { label: "Actions", hidden: true },
];

export function tokenState(t: TokenView, now: number): "revoked" | "expired" | "used up" | "active" {
  if (t.revokedAt !== null) return "revoked";
  if (Date.parse(t.expiresAt) <= now) return "expired";
  if (t.uses >= t.maxUses) return "used up";
  return "active";
}

export function TokensView() {
  const list = useLoad(() => apiJson<{ tokens: TokenView[] }>("GET", "/v1/enrollment-tokens"));
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const action = useAction<string>();

  const revoke = (t: TokenView): Promise<void> =>
    action.run(t.id, async () => {
      await apiJson("DELETE", `/v1/enrollment-tokens/${encodeURIComponent(t.id)}`);
      list.reload();
    });

  const now = Date.now();
  const tokens = [...(list.data?.tokens ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <section data-view="tokens" class="tokens-view" aria-labelledby="tokens-title">
      <div class="view-head">
        <h1 id="tokens-title">Enrollment tokens</h1>
      </div>
      <CreateTokenForm
        onCreated={(t) => {
          setCreated(t);
          list.reload();
        }}
      />
      {created !== null ? (
        <OnceSecret title={`New token${created.name ? ` “${created.name}”` : ""}`} secret={created.token} secretTestId="token-secret" onDismiss={() => setCreated(null)}>
          <p>
            On the device, enroll it with this command (then start it with <code>becomingone-agent run</code>). The token allows {created.maxUses}{" "}
            {created.maxUses === 1 ? "enrollment" : "enrollments"} until {isoShort(created.expiresAt)}
            {created.requireApproval ? "; agents start pending until you approve them" : ""}.
          </p>
          <div class="secret-row">
            <pre class="command" data-testid="enroll-command">
              {enrollCommand({ origin: location.origin, token: created.token, fleet: created.fleetId })}
            </pre>
            <CopyButton text={enrollCommand({ origin: location.origin, token: created.token, fleet: created.fleetId })} label="Copy command" />
          </div>
        </OnceSecret>
      ) : null}

      <div class="card">
        <h2 id="token-list-title">Tokens</h2>
        <ErrorNote error={list.error ?? action.error} />
        {list.data !== null && tokens.length === 0 ? (
          <p class="empty">No tokens yet. Create one above to enroll a device.</p>
        ) : (
          <RegionTable labelledBy="token-list-title" columns={TOKEN_COLUMNS} busy={list.loading} class="tokens-table">
            {tokens.map((t) => {
              const state = tokenState(t, now);
              return (
                <tr key={t.id} data-token-id={t.id} data-state={state}>
                  <td>{t.name ?? <span class="muted">(no name)</span>}</td>
                  <td>
                    <span class={`badge token-${state.replace(" ", "-")}`}>{state}</span>
                  </td>
                  <td class="num">
                    {t.uses} / {t.maxUses}
                  </td>
                  <td>{isoShort(t.expiresAt)}</td>
                  <td>{t.requireApproval ? "required" : "automatic"}</td>
                  <td>
                    <code class="id">{t.id}</code>
                  </td>
                  <td>
                    {t.revokedAt === null ? (
                      <button type="button" class="danger" onClick={() => void revoke(t)} disabled={action.busy === t.id} aria-label={`Revoke token ${t.name ?? t.id}`}>
                        {action.busy === t.id ? "Revoking…" : "Revoke"}
                      </button>
                    ) : (
                      <span class="muted">revoked {isoShort(t.revokedAt)}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </RegionTable>
        )}
      </div>
    </section>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (t: CreatedToken) => void }) {
  const [name, setName] = useState("");
  const [maxUses, setMaxUses] = useState("1");
  const [lifetime, setLifetime] = useState(String(86_400));
  const [approval, setApproval] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const action = useAction<"create">();
  const busy = action.busy !== null;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const uses = Number(maxUses);
    if (!/^\d+$/.test(maxUses.trim()) || uses < 1 || uses > MAX_USES) {
      setFieldError(`Max uses must be a whole number from 1 to ${MAX_USES}`);
      return;
    }
    setFieldError(null);
    await action.run("create", async () => {
      const body = { ...(name.trim() === "" ? {} : { name: name.trim() }), maxUses: uses, expiresInSeconds: Number(lifetime), requireApproval: approval };
      const t = await apiJson<CreatedToken>("POST", "/v1/enrollment-tokens", body);
      setName("");
      onCreated(t);
    });
  };

  return (
    <form class="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="create-token-title">
      <h2 id="create-token-title">Create a token</h2>
      <label>
        <span class="label-text">
          Name <span class="muted">(optional)</span>
        </span>
        <input name="name" value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} placeholder="lab bench" autocomplete="off" />
      </label>
      <label>
        <span class="label-text">Max uses</span>
        <input
          name="maxUses"
          type="number"
          min={1}
          max={MAX_USES}
          step={1}
          required
          value={maxUses}
          onInput={(e) => setMaxUses(e.currentTarget.value)}
          aria-invalid={fieldError !== null}
          aria-describedby={fieldError !== null ? "max-uses-error" : undefined}
        />
      </label>
      <label>
        <span class="label-text">Expires after</span>
        <select name="expiresIn" value={lifetime} onChange={(e) => setLifetime(e.currentTarget.value)}>
          {LIFETIMES.map((l) => (
            <option key={l.seconds} value={String(l.seconds)}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" name="requireApproval" checked={approval} onChange={(e) => setApproval(e.currentTarget.checked)} />
        Require approval (agents start pending)
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create token"}
        </button>
      </div>
      {fieldError !== null ? (
        <p id="max-uses-error" class="error-note" role="alert">
          {fieldError}
        </p>
      ) : null}
      <ErrorNote error={action.error} />
    </form>
  );
}
