/**
 * Webhooks: the fleet's endpoints (create with the secret shown once, rotate, enable/disable,
 * delete after a confirmation), and per endpoint its delivery log and messages, with replay and a
 * test event. Shapes: shared/webhooks/api.ts (types only: its zod schemas stay out of the bundle).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { AttemptView, EndpointView, EndpointWithSecret, MessageView, Page } from "../../shared/webhooks/api.js";
import { apiJson } from "../api/client.js";
import { SUBSCRIBABLE_EVENT_TYPES } from "./webhook-events.js";
import { ErrorNote, OnceSecret, RegionTable, isoShort, useAction, useLoad, type ColumnHead } from "./view-kit.js";

const URL_MAX = 2048;
const DESCRIPTION_MAX = 256;

const ATTEMPT_COLUMNS: readonly ColumnHead[] = [
  { label: "At" },
  { label: "Outcome" },
  { label: "Status", class: "num" },
  { label: "Latency", class: "num" },
  { label: "Message", class: "wide-only" },
  { label: "Attempt", class: "num wide-only" },
  { label: "Error", class: "wide-only" },
];

const MESSAGE_COLUMNS: readonly ColumnHead[] = [
  { label: "Created" },
  { label: "Event" },
  { label: "Status" },
  { label: "Attempts", class: "num wide-only" },
  { label: "Id", class: "wide-only" },
  { label: "Actions", hidden: true },
];

const base = (id: string): string => `/v1/webhooks/endpoints/${encodeURIComponent(id)}`;

export function WebhooksView() {
  const list = useLoad(() => apiJson<{ endpoints: EndpointView[] }>("GET", "/v1/webhooks/endpoints"));
  const [secret, setSecret] = useState<{ title: string; secret: string } | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const endpoints = list.data?.endpoints ?? [];
  return (
    <section data-view="webhooks" class="webhooks-view" aria-labelledby="webhooks-title">
      <div class="view-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <button type="button" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </div>
      <CreateEndpointForm
        onCreated={(r) => {
          setSecret({ title: `Signing secret for ${r.endpoint.url}`, secret: r.secret });
          setOpenId(r.endpoint.id);
          list.reload();
        }}
      />
      {secret !== null ? (
        <OnceSecret title={secret.title} secret={secret.secret} secretTestId="webhook-secret" onDismiss={() => setSecret(null)}>
          <p>
            Configure your receiver with it: every delivery carries <code>webhook-id</code>, <code>webhook-timestamp</code> and{" "}
            <code>webhook-signature</code> headers (Standard Webhooks).
          </p>
        </OnceSecret>
      ) : null}
      <div class="card">
        <h2>Endpoints</h2>
        <ErrorNote error={list.error} />
        {list.data !== null && endpoints.length === 0 ? <p class="empty">No endpoints yet.</p> : null}
        <ul class="endpoint-list">
          {endpoints.map((ep) => (
            <EndpointItem
              key={ep.id}
              endpoint={ep}
              open={openId === ep.id}
              onToggle={() => setOpenId(openId === ep.id ? null : ep.id)}
              onChanged={list.reload}
              onSecret={(s) => setSecret({ title: `New signing secret for ${ep.url}`, secret: s })}
            />
          ))}
        </ul>
      </div>
    </section>
  );
}

function CreateEndpointForm({ onCreated }: { onCreated: (r: EndpointWithSecret) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<readonly string[]>([]);
  const action = useAction<"add">();
  const busy = action.busy !== null;
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    await action.run("add", async () => {
      const body = { url: url.trim(), ...(description.trim() === "" ? {} : { description: description.trim() }), eventTypes: events };
      const r = await apiJson<EndpointWithSecret>("POST", "/v1/webhooks/endpoints", body);
      setUrl("");
      setDescription("");
      setEvents([]);
      onCreated(r);
    });
  };
  const toggle = (type: string, on: boolean): void => setEvents(on ? [...events, type] : events.filter((t) => t !== type));
  return (
    <form class="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="create-endpoint-title">
      <h2 id="create-endpoint-title">Add an endpoint</h2>
      <label class="wide">
        <span class="label-text">URL</span>
        <input name="url" type="url" required maxLength={URL_MAX} value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="https://hooks.example/becomingone" autocomplete="off" />
      </label>
      <label class="wide">
        <span class="label-text">
          Description <span class="muted">(optional)</span>
        </span>
        <input name="description" maxLength={DESCRIPTION_MAX} value={description} onInput={(e) => setDescription(e.currentTarget.value)} autocomplete="off" />
      </label>
      <fieldset class="wide events">
        <legend>Events (none ticked = every event)</legend>
        {SUBSCRIBABLE_EVENT_TYPES.map((t) => (
          <label key={t} class="check">
            <input type="checkbox" name="eventTypes" value={t} checked={events.includes(t)} onChange={(e) => toggle(t, e.currentTarget.checked)} />
            <code>{t}</code>
          </label>
        ))}
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Adding…" : "Add endpoint"}
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

function endpointState(ep: EndpointView): { label: string; cls: string } {
  if (!ep.enabled) return { label: `disabled${ep.disabledReason !== null && ep.disabledReason !== "operator" ? ` (${ep.disabledReason})` : ""}`, cls: "disabled" };
  if (ep.failingSince !== null) return { label: `failing since ${isoShort(ep.failingSince)}`, cls: "failing" };
  return { label: "enabled", cls: "enabled" };
}

type EndpointAction = "test" | "rotate" | "enable" | "delete";

function EndpointItem(props: { endpoint: EndpointView; open: boolean; onToggle: () => void; onChanged: () => void; onSecret: (secret: string) => void }) {
  const ep = props.endpoint;
  const action = useAction<EndpointAction>();
  const busy = action.busy;
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [logRound, setLogRound] = useState(0);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const act = (what: EndpointAction, run: () => Promise<void>): Promise<void> => {
    setNote(null);
    return action.run(what, run);
  };
  const test = () =>
    act("test", async () => {
      const m = await apiJson<MessageView>("POST", `${base(ep.id)}/test`);
      setNote(`Test event ${m.id} queued; its attempts show in the delivery log below.`);
      setLogRound((r) => r + 1);
      if (!props.open) props.onToggle();
    });
  const rotate = () =>
    act("rotate", async () => {
      const r = await apiJson<EndpointWithSecret & { previousValidUntil: string }>("POST", `${base(ep.id)}/rotate-secret`);
      props.onSecret(r.secret);
      setNote(`Secret rotated; the previous one keeps signing until ${isoShort(r.previousValidUntil)}.`);
      props.onChanged();
    });
  const setEnabled = (enabled: boolean) =>
    act("enable", async () => {
      await apiJson<EndpointView>("PATCH", base(ep.id), { enabled });
      props.onChanged();
    });
  const remove = () =>
    act("delete", async () => {
      await apiJson("DELETE", base(ep.id));
      setConfirming(false);
      props.onChanged();
    });

  const state = endpointState(ep);
  const titleId = `ep-${ep.id}-title`;
  return (
    <li class="endpoint" data-endpoint-id={ep.id} data-enabled={ep.enabled ? "true" : "false"} aria-labelledby={titleId}>
      <div class="endpoint-head">
        <h3 id={titleId}>
          <code class="url">{ep.url}</code>
        </h3>
        <span class={`badge endpoint-${state.cls}`}>{state.label}</span>
      </div>
      {ep.description !== "" ? <p class="muted">{ep.description}</p> : null}
      <p class="endpoint-meta">
        Events: {ep.eventTypes.length === 0 ? "every event" : ep.eventTypes.join(", ")} · {ep.secrets.length} signing {ep.secrets.length === 1 ? "secret" : "secrets"} · created{" "}
        {isoShort(ep.createdAt)} · <code class="id">{ep.id}</code>
      </p>
      <div class="actions-row">
        <button type="button" onClick={() => void test()} disabled={busy !== null || !ep.enabled}>
          {busy === "test" ? "Sending…" : "Send test event"}
        </button>
        <button type="button" onClick={() => void rotate()} disabled={busy !== null}>
          Rotate secret
        </button>
        <button type="button" onClick={() => void setEnabled(!ep.enabled)} disabled={busy !== null}>
          {ep.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" onClick={props.onToggle} aria-expanded={props.open} aria-controls={`ep-${ep.id}-log`}>
          {props.open ? "Hide deliveries" : "Deliveries and messages"}
        </button>
        {confirming ? (
          <span class="confirm" role="group" aria-label="Confirm deletion">
            <span>Delete this endpoint, its messages and its log?</span>
            <button type="button" class="danger" ref={confirmButton} onClick={() => void remove()} disabled={busy !== null}>
              {busy === "delete" ? "Deleting…" : "Yes, delete"}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={busy !== null}>
            Delete
          </button>
        )}
      </div>
      {note !== null ? (
        <p class="note-ok" role="status">
          {note}
        </p>
      ) : null}
      <ErrorNote error={action.error} />
      {props.open ? <DeliveryLog id={`ep-${ep.id}-log`} endpoint={ep} round={logRound} /> : null}
    </li>
  );
}

function DeliveryLog({ id, endpoint, round }: { id: string; endpoint: EndpointView; round: number }) {
  const [tick, setTick] = useState(0);
  const attempts = useLoad(() => apiJson<Page<AttemptView>>("GET", `${base(endpoint.id)}/deliveries?limit=20`), [round, tick]);
  const messages = useLoad(() => apiJson<Page<MessageView>>("GET", `${base(endpoint.id)}/messages?limit=20`), [round, tick]);
  const action = useAction<string>();
  const replaying = action.busy;
  // Deliveries happen within a second or so: poll while something is pending.
  const pending = (messages.data?.items ?? []).some((m) => m.status === "pending" || m.status === "delivering");
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => setTick((x) => x + 1), 1000);
    return () => clearTimeout(t);
  }, [pending, messages.data]);
  const replay = (m: MessageView): Promise<void> =>
    action.run(m.id, async () => {
      await apiJson<MessageView>("POST", `${base(endpoint.id)}/messages/${encodeURIComponent(m.id)}/replay`);
      setTick((x) => x + 1);
    });
  return (
    <div id={id} class="delivery-log">
      <ErrorNote error={attempts.error ?? messages.error ?? action.error} />
      <h4 id={`${id}-attempts`}>Delivery log</h4>
      {attempts.data !== null && attempts.data.items.length === 0 ? <p class="empty">No attempts yet.</p> : null}
      {attempts.data !== null && attempts.data.items.length > 0 ? (
        <RegionTable labelledBy={`${id}-attempts`} columns={ATTEMPT_COLUMNS} testId="delivery-log">
          {attempts.data.items.map((a) => (
            <tr key={a.seq} data-outcome={a.outcome} data-message-id={a.messageId}>
              <td>{isoShort(a.at)}</td>
              <td>
                <span class={`badge outcome-${a.outcome}`}>{a.outcome}</span>
              </td>
              <td class="num">{a.statusCode ?? "–"}</td>
              <td class="num">{a.latencyMs} ms</td>
              <td class="wide-only">
                <code class="id">{a.messageId}</code>
              </td>
              <td class="num wide-only">{a.attempt}</td>
              <td class="wrap wide-only">{a.error ?? ""}</td>
            </tr>
          ))}
        </RegionTable>
      ) : null}
      <h4 id={`${id}-messages`}>Messages</h4>
      {messages.data !== null && messages.data.items.length === 0 ? <p class="empty">No messages yet.</p> : null}
      {messages.data !== null && messages.data.items.length > 0 ? (
        <RegionTable labelledBy={`${id}-messages`} columns={MESSAGE_COLUMNS} testId="messages">
          {messages.data.items.map((m) => (
            <tr key={m.id} data-message-id={m.id} data-status={m.status} data-event-type={m.eventType}>
              <td>{isoShort(m.createdAt)}</td>
              <td>
                <code>{m.eventType}</code>
              </td>
              <td>
                <span class={`badge message-${m.status}`}>{m.status}</span>
              </td>
              <td class="num wide-only">{m.attempts}</td>
              <td class="wide-only">
                <code class="id">{m.id}</code>
              </td>
              <td>
                <button
                  type="button"
                  onClick={() => void replay(m)}
                  disabled={replaying !== null || m.status === "pending" || m.status === "delivering" || !endpoint.enabled}
                  aria-label={`Replay message ${m.id}`}
                >
                  {replaying === m.id ? "Replaying…" : "Replay"}
                </button>
              </td>
            </tr>
          ))}
        </RegionTable>
      ) : null}
    </div>
  );
}
