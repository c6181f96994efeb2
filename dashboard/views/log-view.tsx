/**
 * The global log: its size, the latest signed checkpoint and whether its signature verifies under
 * the log key (checked here, in the browser), the entries newest first (25 a page), and one entry
 * (/log/<index>) with its inclusion proof verified in the browser by dashboard/verify.
 */
import { useEffect, useState } from "preact/hooks";
import type { FleetView } from "../../shared/api/index.js";
import { apiJson } from "../api/client.js";
import { navigate } from "../router.js";
import { fetchAndVerifyCheckpoint, fetchAndVerifyEntry, type EntryJson, type EntryVerdict } from "../verify/index.js";
import { VerifyResult } from "../verify/verify-result.js";
import { ErrorNote, RegionTable, useLoad, type ColumnHead } from "./view-kit.js";

export const PAGE_SIZE = 25;

interface EntriesPage {
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly entries: readonly EntryJson[];
}

/** The [start, end) of page `page` (0 = newest) of a log of `size` entries. */
export function pageRange(size: number, page: number): { start: number; end: number } {
  const end = Math.max(0, size - page * PAGE_SIZE);
  return { start: Math.max(0, end - PAGE_SIZE), end };
}

/** The page (0 = newest) that holds entry `index`. */
export function pageOf(size: number, index: number): number {
  return index >= size ? 0 : Math.floor((size - 1 - index) / PAGE_SIZE);
}

const ENTRY_COLUMNS: readonly ColumnHead[] = [
  { label: "Index", class: "num" },
  { label: "Kind" },
  { label: "Agent", class: "wide-only" },
  { label: "Seq", class: "num" },
  { label: "Sealed at" },
];

function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function LogView({ index }: { index: number | null }) {
  const [page, setPage] = useState(0);
  const [followIndex, setFollowIndex] = useState(true);
  const checkpoint = useLoad(() => fetchAndVerifyCheckpoint(), []);
  // The size from GET /v1/fleet (an operator route, never cached): an empty page of entries would
  // carry it too, but the edge marks that answer immutable, so a browser would keep an old size.
  const sizeLoad = useLoad(() => apiJson<FleetView>("GET", "/v1/fleet"), [checkpoint.data]);
  const size = sizeLoad.data?.log.size ?? null;

  // Opening /log/<index> shows the page that holds it (until the operator pages away).
  useEffect(() => {
    if (index !== null && size !== null && followIndex) setPage(pageOf(size, index));
  }, [index, size, followIndex]);

  const range = size === null ? null : pageRange(size, page);
  const entries = useLoad(
    () => (range === null || range.end === 0 ? Promise.resolve(null) : apiJson<EntriesPage>("GET", `/v1/log/entries?start=${range.start}&end=${range.end}`)),
    [range?.start, range?.end],
  );
  const rows = entries.data === null ? [] : [...entries.data.entries].reverse();
  const pages = size === null ? 1 : Math.max(1, Math.ceil(size / PAGE_SIZE));
  const refresh = (): void => {
    checkpoint.reload();
  };
  const go = (p: number): void => {
    setFollowIndex(false);
    setPage(Math.min(Math.max(0, p), pages - 1));
  };

  const cp = checkpoint.data;
  return (
    <section data-view="log" class="log-view" aria-labelledby="log-title">
      <div class="view-head">
        <h1 id="log-title">Global log</h1>
        <button type="button" onClick={refresh} disabled={checkpoint.loading}>
          Refresh
        </button>
      </div>
      <ErrorNote error={checkpoint.error ?? sizeLoad.error} />

      <div class="card">
        <h2>Latest signed checkpoint</h2>
        <dl class="kv">
          <dt>Log size</dt>
          <dd data-testid="log-size">{size ?? "…"}</dd>
          <dt>Checkpoint size</dt>
          <dd data-testid="checkpoint-size">{cp?.ok ? cp.checkpoint.size : "–"}</dd>
          <dt>Root</dt>
          <dd>
            <code class="hash">{cp?.ok ? cp.checkpoint.rootBase64 : "–"}</code>
          </dd>
          <dt>Origin</dt>
          <dd>
            <code>{cp?.ok ? cp.checkpoint.origin : "–"}</code>
          </dd>
          <dt>Signature</dt>
          <dd>
            {cp === null ? (
              "checking…"
            ) : (
              <span class={cp.ok ? "status-ok" : "status-bad"} data-testid="checkpoint-status" data-ok={cp.ok ? "true" : "false"}>
                {cp.ok ? `✓ verifies with the log key ${cp.checkpoint.signedBy} (checked in this browser)` : `✗ ${cp.reason}`}
              </span>
            )}
          </dd>
        </dl>
        {cp?.fetched !== undefined ? (
          <details class="note">
            <summary>Signed note and log key</summary>
            <pre class="note-text" tabIndex={0} aria-label="Signed checkpoint note">
              {cp.fetched.checkpointNote}
            </pre>
            <p>
              Log key: <code class="hash">{cp.fetched.keyText.trim()}</code>
            </p>
          </details>
        ) : null}
      </div>

      {index !== null ? <EntryDetail key={index} index={index} entry={rows.find((e) => e.index === index) ?? null} /> : null}

      <div class="card">
        <h2 id="entries-title">Entries</h2>
        <ErrorNote error={entries.error} />
        {size === 0 ? (
          <p class="empty">The log is empty: entries appear when agents seal records.</p>
        ) : (
          <RegionTable labelledBy="entries-title" columns={ENTRY_COLUMNS} busy={entries.loading}>
            {rows.map((e) => (
              <tr key={e.index} data-entry-index={e.index} class={e.index === index ? "selected" : undefined} aria-current={e.index === index ? "true" : undefined}>
                <td class="num">
                  <a href={`/log/${e.index}`} aria-label={`Entry ${e.index}: open and verify`}>
                    {e.index}
                  </a>
                </td>
                <td>{entryKind(e)}</td>
                <td class="wide-only">
                  <code class="id">{e.agentId}</code>
                </td>
                <td class="num">{e.type === "record" ? e.seq : "—"}</td>
                <td>{entryTime(e)}</td>
              </tr>
            ))}
          </RegionTable>
        )}
        <nav class="pager" aria-label="Entry pages">
          <button type="button" onClick={() => go(page - 1)} disabled={page === 0}>
            Newer
          </button>
          <span aria-live="polite">
            {range === null || size === null ? "…" : size === 0 ? "no entries" : `entries ${range.start}–${range.end - 1} of ${size} (page ${page + 1} of ${pages})`}
          </span>
          <button type="button" onClick={() => go(page + 1)} disabled={page >= pages - 1}>
            Older
          </button>
        </nav>
      </div>
    </section>
  );
}

/** One entry: its fields and payload, and the in-browser verification of its inclusion proof. */
function EntryDetail({ index, entry }: { index: number; entry: EntryJson | null }) {
  const [outcome, setOutcome] = useState<EntryVerdict | "checking" | null>(null);
  const [round, setRound] = useState(0);
  // The entry is fetched by the verifier itself, so what is shown and verified is one answer.
  const [shown, setShown] = useState<EntryJson | null>(entry);
  useEffect(() => {
    let live = true;
    setOutcome("checking");
    void (async () => {
      const page = await apiJson<EntriesPage>("GET", `/v1/log/entries?start=${index}&end=${index + 1}`).catch(() => null);
      const fetched = page?.entries[0] ?? null;
      if (!live) return;
      setShown(fetched);
      // Nothing to verify for an index the log does not have (yet): say so instead.
      if (fetched === null && page !== null) {
        setOutcome(null);
        return;
      }
      const verdict = await fetchAndVerifyEntry(index, fetched === null ? {} : { entry: fetched });
      if (live) setOutcome(verdict);
    })();
    return () => {
      live = false;
    };
  }, [index, round]);

  let payload = shown === null ? "" : shown.type === "record" ? shown.record.payloadJson : shown.type === "key" ? JSON.stringify(shown.key) : shown.checkpoint.note;
  try {
    payload = JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    // shown as sent
  }
  return (
    <div class="card entry-detail" data-testid="entry-detail" aria-labelledby="entry-title">
      <div class="view-head">
        <h2 id="entry-title">Entry {index}</h2>
        <button type="button" onClick={() => setRound((r) => r + 1)} disabled={outcome === "checking"}>
          Verify again
        </button>
        <button type="button" onClick={() => navigate("/log")}>
          Close
        </button>
      </div>
      {shown === null && outcome !== "checking" ? (
        <p class="muted">No entry {index} in the log.</p>
      ) : shown !== null ? (
        <dl class="kv">
          <dt>Kind</dt>
          <dd>{entryKind(shown)}</dd>
          <dt>Agent</dt>
          <dd>
            <a href={`/agents/${encodeURIComponent(shown.agentId)}`}>
              <code class="id">{shown.agentId}</code>
            </a>
          </dd>
          <dt>Seq</dt>
          <dd>{shown.type === "record" ? shown.seq : "—"}</dd>
          <dt>Sealed at</dt>
          <dd>{entryTime(shown)}</dd>
          <dt>Payload</dt>
          <dd>
            <pre class="payload" tabIndex={0} aria-label={`Payload of entry ${index}`}>
              {payload}
            </pre>
          </dd>
        </dl>
      ) : null}
      <VerifyResult verdict={outcome === "checking" ? null : outcome} busy={outcome === "checking"} />
    </div>
  );
}

/** What an entry is: a record's kind, a key event, or an agent checkpoint. */
function entryKind(e: EntryJson): string {
  return e.type === "record" ? e.record.kind : e.type === "key" ? `key ${e.key.event}` : `agent checkpoint ${e.checkpoint.size}`;
}

function entryTime(e: EntryJson): string {
  return e.type === "record" ? isoOf(e.record.timestamp) : e.type === "key" ? isoOf(e.key.timestamp) : "";
}
