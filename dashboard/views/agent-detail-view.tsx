/**
 * One agent: what the edge knows of it (GET /v1/agents/:id), its recent θ and coherence from the live
 * channel (kept client-side for two minutes), its recent records (GET /v1/agents/:id/records) each
 * with an in-browser inclusion check, and approve / revoke (confirmed first).
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import type uPlot from "uplot";
import type { AgentRecordView, AgentRecordsPage, AgentView } from "../../shared/api/index.js";
import { base64UrlToBytes } from "../../shared/protocol/base64.js";
import { apiJson, describeError } from "../api/client.js";
import { TimeChart } from "../charts/time-chart.js";
import { formatAgo, formatNumber, formatTime, shortHash } from "../format.js";
import { displayStatus, HISTORY_WINDOW_MS, store, thetaAt } from "../live/store.js";
import { fetchAndVerifyEntry, type EntryVerdict } from "../verify/index.js";
import { VerifyResult } from "../verify/verify-result.js";

const RECORDS_PAGE = 20;

export function AgentDetailView({ id }: { id: string }) {
  const [agent, setAgent] = useState<AgentView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  void store.agentsVersion.value;
  const live = store.byId.get(id);

  const load = useCallback(async () => {
    try {
      setAgent(await apiJson<AgentView>("GET", `/v1/agents/${encodeURIComponent(id)}`));
      setLoadError(null);
    } catch (error) {
      setLoadError(describeError(error));
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: "approve" | "revoke"): Promise<void> => {
    const name = agent?.name ?? id;
    const question =
      action === "revoke"
        ? `Revoke ${name}? Its sockets close at once and it can never reconnect with this key.`
        : `Approve ${name}? It joins the fleet's field when it connects.`;
    if (!confirm(question)) return;
    setBusy(true);
    setActionError(null);
    try {
      setAgent(await apiJson<AgentView>("POST", `/v1/agents/${encodeURIComponent(id)}/${action}`));
    } catch (error) {
      setActionError(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const status = agent?.status === "revoked" ? "revoked" : live !== undefined ? displayStatus(live) : agent !== null ? (agent.status === "active" ? (agent.quarantine !== null ? "quarantined" : agent.online ? "online" : "offline") : agent.status) : "unknown";
  const theta = live !== undefined ? thetaAt(live, Date.now()) : null;
  const readHistory = useCallback((): uPlot.AlignedData => {
    const history = store.history(id);
    if (history === undefined) return [[], [], []];
    return history.series(Date.now() - HISTORY_WINDOW_MS);
  }, [id]);

  return (
    <section class="agent" data-view="agent" data-agent-id={id}>
      <p>
        <a href="/agents">← Agents</a>
      </p>
      <div class="detail-head">
        <h1>{agent?.name ?? live?.name ?? id}</h1>
        <span class={`badge ${status}`} data-testid="agent-status">
          {status}
        </span>
        <div class="actions">
          {agent?.status === "pending" ? (
            <button type="button" class="primary" disabled={busy} onClick={() => void act("approve")}>
              Approve
            </button>
          ) : null}
          {agent !== null && agent.status !== "revoked" ? (
            <button type="button" class="danger" disabled={busy} onClick={() => void act("revoke")}>
              Revoke
            </button>
          ) : null}
        </div>
      </div>
      {loadError !== null ? (
        <p class="error" role="alert">
          {loadError}
        </p>
      ) : null}
      {actionError !== null ? (
        <p class="error" role="alert">
          {actionError}
        </p>
      ) : null}
      <div class="detail-grid">
        <section class="card">
          <h2>Agent</h2>
          <dl class="kv">
            <dt>id</dt>
            <dd>
              <code>{id}</code>
            </dd>
            <dt>hardware</dt>
            <dd>{agent?.hardware ?? live?.hardware ?? "–"}</dd>
            <dt>software</dt>
            <dd>{agent?.software ?? "–"}</dd>
            <dt>enrolled</dt>
            <dd>{agent === null ? "–" : formatTime(agent.enrolledAt)}</dd>
            <dt>last seen</dt>
            <dd>{formatAgo(live?.lastSeenAt ?? agent?.lastSeenAt ?? null, Date.now())}</dd>
            <dt>θ</dt>
            <dd data-testid="agent-theta">{theta === null ? "–" : `${theta.toFixed(3)} rad`}</dd>
            <dt>coherence</dt>
            <dd>{formatNumber(live?.coherence ?? agent?.summary?.coherence ?? null, 3)}</dd>
            <dt>tokens/s</dt>
            <dd>{formatNumber(live?.tokenHz ?? agent?.summary?.tokenHz ?? null, 1)}</dd>
            <dt>Lamport</dt>
            <dd>{live?.lamport ?? agent?.lamport ?? "–"}</dd>
            <dt>agent log</dt>
            <dd>
              {agent?.agentLog == null ? (live?.agentLogSize ?? "–") : (
                <>
                  {agent.agentLog.size} records, root <code title={agent.agentLog.root}>{shortHash(agent.agentLog.root)}</code>
                </>
              )}
            </dd>
            <dt>in the field</dt>
            <dd>{agent === null ? "–" : agent.inField ? "yes" : "no"}</dd>
            <dt>quarantine</dt>
            <dd data-testid="quarantine-reason">{(live?.quarantine ?? agent?.quarantine)?.reason ?? "none"}</dd>
          </dl>
        </section>
        <section class="card">
          <h2>θ and coherence, last 2 minutes</h2>
          <TimeChart
            title={`Phase θ and coherence of ${id} over the last two minutes`}
            series={[
              { label: "θ (rad)", colorVar: "--accent", scale: "theta", pointsOnly: true },
              { label: "coherence", colorVar: "--ok", scale: "coherence" },
            ]}
            scales={{ theta: { range: [0, 2 * Math.PI] }, coherence: { range: [0, 1] } }}
            axes={[
              { scale: "theta", side: 3, label: "θ" },
              { scale: "coherence", side: 1, label: "coherence" },
            ]}
            version={store.agentsVersion}
            read={readHistory}
          />
        </section>
      </div>
      <Records id={id} publicKeyX={agent?.publicKey.x ?? null} />
    </section>
  );
}

function Records({ id, publicKeyX }: { id: string; publicKeyX: string | null }) {
  const [records, setRecords] = useState<AgentRecordView[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [results, setResults] = useState<ReadonlyMap<number, EntryVerdict | "checking">>(new Map());

  const fetchPage = async (before: number | null, append: boolean): Promise<void> => {
    setLoading(true);
    try {
      const query = before === null ? `limit=${RECORDS_PAGE}` : `before=${before}&limit=${RECORDS_PAGE}`;
      const page = await apiJson<AgentRecordsPage>("GET", `/v1/agents/${encodeURIComponent(id)}/records?${query}`);
      setRecords((old) => (append ? [...old, ...page.records] : page.records));
      setNextBefore(page.nextBefore);
      setError(null);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setResults(new Map());
    void fetchPage(null, false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  // The record's entry comes with it; the key, the checkpoint and the proof are fetched and checked
  // here, and the record's signature against the agent's enrolled key when we have it.
  const verify = async (record: AgentRecordView): Promise<void> => {
    setResults((m) => new Map(m).set(record.index, "checking"));
    let agentPublicKey: Uint8Array | undefined;
    try {
      agentPublicKey = publicKeyX === null ? undefined : base64UrlToBytes(publicKeyX);
    } catch {
      agentPublicKey = undefined;
    }
    const verdict = await fetchAndVerifyEntry(record.index, agentPublicKey === undefined ? { entry: record.entry } : { entry: record.entry, agentPublicKey });
    setResults((m) => new Map(m).set(record.index, verdict));
  };

  return (
    <section class="card records">
      <div class="detail-head">
        <h2>Recent records</h2>
        <div class="actions">
          <button type="button" disabled={loading} onClick={() => void fetchPage(null, false)}>
            Refresh
          </button>
        </div>
      </div>
      {error !== null ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Recent records of {id}, newest first</caption>
          <thead>
            <tr>
              <th scope="col" class="num">seq</th>
              <th scope="col">kind</th>
              <th scope="col" class="num opt">Lamport</th>
              <th scope="col">time</th>
              <th scope="col" class="num">log index</th>
              <th scope="col">inclusion</th>
            </tr>
          </thead>
          <tbody>
            {records.map((record) => (
              <tr key={record.index} data-record-index={record.index} data-seq={record.seq}>
                <td class="num">{record.seq}</td>
                <td>{record.kind}</td>
                <td class="num opt">{record.lamport ?? "–"}</td>
                <td>{formatTime(record.t)}</td>
                <td class="num">
                  <a href={`/log/${record.index}`}>{record.index}</a>
                </td>
                <td>
                  <button type="button" onClick={() => void verify(record)} aria-label={`Verify the inclusion of record ${record.seq}`}>
                    Verify
                  </button>
                  {(() => {
                    const result = results.get(record.index);
                    return <VerifyResult verdict={result === undefined || result === "checking" ? null : result} busy={result === "checking"} />;
                  })()}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {records.length === 0 && !loading ? <p class="empty">No records yet.</p> : null}
      </div>
      {nextBefore !== null ? (
        <button type="button" disabled={loading} onClick={() => void fetchPage(nextBefore, true)}>
          Older records
        </button>
      ) : null}
    </section>
  );
}
