/**
 * Agents: the live set as a table — sort by any column, filter by status, search by name, id or
 * hardware. Rows carry data-agent-id, data-status and data-theta (θ now, 3 decimals) for the tests.
 */
import { useEffect, useState } from "preact/hooks";
import { formatAgo, formatNumber } from "../format.js";
import { displayStatus, store, thetaAt, type AgentState, type DisplayStatus } from "../live/store.js";

type SortKey = "name" | "id" | "hardware" | "status" | "lastSeen" | "tokenHz" | "coherence" | "lamport" | "logSize";

const COLUMNS: readonly { readonly key: SortKey; readonly label: string; readonly numeric?: boolean }[] = [
  { key: "name", label: "Name" },
  { key: "id", label: "Id" },
  { key: "hardware", label: "Hardware" },
  { key: "status", label: "Status" },
  { key: "lastSeen", label: "Last seen" },
  { key: "tokenHz", label: "Tokens/s", numeric: true },
  { key: "coherence", label: "Coherence", numeric: true },
  { key: "lamport", label: "Lamport", numeric: true },
  { key: "logSize", label: "Log size", numeric: true },
];

/** Rows rendered at first; more on request (a thousand rows of DOM re-rendered each second is the cost). */
const PAGE_ROWS = 200;

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

const STATUSES: readonly ("all" | DisplayStatus)[] = ["all", "online", "offline", "quarantined", "pending"];

function sortValue(agent: AgentState, key: SortKey): string | number {
  switch (key) {
    case "name":
      return agent.name;
    case "id":
      return agent.id;
    case "hardware":
      return agent.hardware ?? "";
    case "status":
      return displayStatus(agent);
    case "lastSeen":
      return agent.lastSeenAt ?? 0;
    case "tokenHz":
      return agent.tokenHz ?? -1;
    case "coherence":
      return agent.coherence ?? -1;
    case "lamport":
      return agent.lamport ?? -1;
    case "logSize":
      return agent.agentLogSize ?? -1;
  }
}

/**
 * Re-renders once a second: "last seen" and θ stay current, and a thousand rows are not rebuilt for
 * every phase frame (up to four a second). The table reads the live maps when it renders.
 */
function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

export function AgentsView() {
  useTick(1000);
  const [limit, setLimit] = useState(PAGE_ROWS);
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "name", descending: false });
  const [status, setStatus] = useState<"all" | DisplayStatus>("all");
  const [query, setQuery] = useState("");
  const now = Date.now();
  const needle = query.trim().toLowerCase();

  const rows = [...store.byI.values()].filter((agent) => {
    if (status !== "all" && displayStatus(agent) !== status) return false;
    if (needle === "") return true;
    return agent.name.toLowerCase().includes(needle) || agent.id.toLowerCase().includes(needle) || (agent.hardware ?? "").toLowerCase().includes(needle);
  });
  rows.sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    const primary = typeof x === "string" && typeof y === "string" ? collator.compare(x, y) : x < y ? -1 : x > y ? 1 : 0;
    const order = primary !== 0 ? primary : a.id < b.id ? -1 : 1;
    return sort.descending ? -order : order;
  });

  const onSort = (key: SortKey): void => setSort(sort.key === key ? { key, descending: !sort.descending } : { key, descending: false });

  return (
    <section class="agents" data-view="agents">
      <h1>Agents</h1>
      <div class="toolbar" role="search">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as "all" | DisplayStatus)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={query} placeholder="name, id or hardware" onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <p class="muted" aria-live="polite">
          {rows.length} of {store.byI.size} agents{rows.length > limit ? `, first ${limit} shown` : ""}
        </p>
      </div>
      <div class="table-wrap">
        <table class="agents-table">
          <caption class="visually-hidden">Agents of the fleet, live</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} scope="col" class={c.numeric === true ? "num" : undefined} aria-sort={sort.key === c.key ? (sort.descending ? "descending" : "ascending") : undefined}>
                  <button type="button" class="sort" onClick={() => onSort(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{sort.key === c.key ? (sort.descending ? " ▾" : " ▴") : ""}</span>
                  </button>
                </th>
              ))}
              <th scope="col">θ</th>
              <th scope="col">Quarantine</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, limit).map((agent) => {
              const s = displayStatus(agent);
              const theta = thetaAt(agent, now);
              return (
                <tr key={agent.id} data-agent-id={agent.id} data-status={s} data-theta={theta === null ? "" : theta.toFixed(3)}>
                  <td>
                    <a href={`/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a>
                    {/* Phones hide the id column: a short id keeps same-named agents apart (the full id stays in its column). */}
                    <span class="phone-only sub" aria-hidden="true">
                      {agent.id.slice(0, 11)}…
                    </span>
                  </td>
                  <td>
                    <code class="id">{agent.id}</code>
                  </td>
                  <td>{agent.hardware ?? "–"}</td>
                  <td>
                    <span class={`badge ${s}`}>{s}</span>
                    {agent.quarantine !== null ? (
                      <span class="phone-only sub reason" aria-hidden="true">
                        {agent.quarantine.reason}
                      </span>
                    ) : null}
                  </td>
                  <td>{formatAgo(agent.lastSeenAt, now)}</td>
                  <td class="num">{formatNumber(agent.tokenHz, 1)}</td>
                  <td class="num">{formatNumber(agent.coherence, 2)}</td>
                  <td class="num">{agent.lamport ?? "–"}</td>
                  <td class="num">{agent.agentLogSize ?? "–"}</td>
                  <td class="num">{theta === null ? "–" : theta.toFixed(3)}</td>
                  <td class="reason">{agent.quarantine?.reason ?? ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {rows.length > limit ? (
          <p class="more">
            <button type="button" onClick={() => setLimit(limit + PAGE_ROWS)}>
              Show {Math.min(PAGE_ROWS, rows.length - limit)} more of {rows.length - limit}
            </button>
          </p>
        ) : null}
        {rows.length === 0 ? <p class="empty">{store.byI.size === 0 ? "No agents yet. Create an enrollment token to add one." : "No agent matches."}</p> : null}
      </div>
    </section>
  );
}
