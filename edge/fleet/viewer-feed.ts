import {
  encodePhaseFrame,
  LIVE_FLUSH_GAP_MS,
  LIVE_HEARTBEAT_MS,
  MAX_VIEWERS,
  VIEWER_SESSION_CLOSE,
  type AgentsMessage,
  type FleetMessage,
  type LiveAgent,
  type LiveFleet,
  type PhaseEntry,
  type SnapshotMessage,
} from "../../shared/dashboard/index.js";
import type { AgentRows } from "./agent-rows.js";
import { SOCKET_OPEN } from "./connection.js";
import type { FleetViews } from "./fleet-view.js";
import { standingReason, type AgentRow } from "./registry.js";
import type { ViewerHistory } from "./viewer-history.js";
import { closeViewer, judgeViewerFrame, readViewer, sendToViewer, writeViewer, type ViewerAttachment, type ViewerSocket } from "./viewer-socket.js";

/** Agents whose slow columns (Lamport, next seq, log size, token rate, last seen) are re-sent per heartbeat, longest-unsent first. */
export const SLOW_REFRESH_BUDGET = 32;
/** With agents connected (phases moving), the `fleet` message (r, ψ) comes at least this often. */
const FLEET_WHILE_LIVE_MS = 1000;
/** Live indices are u16 (the phase frame's `i`). */
const MAX_LIVE_INDEX = 0xffff;

export interface ViewerFeedParts {
  readonly rows: AgentRows;
  readonly views: Pick<FleetViews, "fleet">;
  readonly history: ViewerHistory;
  /** The open viewer sockets (workerd: `ctx.getWebSockets("viewer")`). */
  readonly viewers: () => ViewerSocket[];
  /** Whether agent sockets are open (phases and presence can move without a write). */
  readonly agentsLive: () => boolean;
}

/** One agent of the live set: its index and what viewers were last sent of it. */
interface LiveEntry {
  readonly i: number;
  statusKey: string;
  slowKey: string;
  /** `summary_received_at` of the last summary sent (frame or upsert). */
  summaryAt: number | null;
  slowSentAt: number;
  agent: LiveAgent;
}

/** What a flush sent, for tests and the bytes measurement. */
export interface FlushReport {
  readonly snapshots: number;
  readonly upserts: number;
  readonly removes: number;
  readonly framed: number;
  readonly fleet: boolean;
  readonly bytes: number;
}

export function liveAgent(i: number, row: AgentRow): LiveAgent {
  const reason = standingReason(row);
  return {
    i,
    id: row.id,
    name: row.name,
    hardware: row.hardware,
    status: row.status,
    online: row.online === 1,
    connected: row.connected === 1,
    quarantine: reason === null ? null : { reason, since: row.quarantined_at },
    lastSeenAt: row.last_seen_at,
    lamport: row.lamport,
    nextSeq: row.next_seq,
    agentLogSize: row.agent_log_size,
    tokenHz: row.token_hz,
    coherence: row.coherence,
    theta: row.theta,
    omega: row.omega,
    t: row.summary_t ?? row.summary_received_at,
  };
}

const statusKeyOf = (row: AgentRow) => `${row.status}|${row.online}|${row.connected}|${standingReason(row)}|${row.quarantined_at}|${row.name}|${row.hardware}`;
const slowKeyOf = (row: AgentRow) => `${row.lamport}|${row.next_seq}|${row.agent_log_size}|${row.token_hz}|${row.last_seen_at}`;
const byteLength = (data: string | Uint8Array) => (typeof data === "string" ? new TextEncoder().encode(data).byteLength : data.byteLength);

/**
 * The dashboard live channel's object side (docs/edge.md, "Viewer feed"): one published live set
 * that every synced viewer holds, brought up to date at each flush (at most every
 * LIVE_FLUSH_GAP_MS, the "viewers" scheduler task) by what changed:
 *
 * - status and membership (an `agents` message): the agents `write` touched (AgentRows observer),
 *   the connected rows scanned in memory, and at each heartbeat every row (enrollments insert
 *   without a write);
 * - phases (a binary phase frame): connected rows whose `summary_received_at` moved since the last
 *   frame, from memory (no SQL per summary or per flush);
 * - the fleet (a `fleet` message): after a status change, every second while agents are live, and
 *   at least every LIVE_HEARTBEAT_MS.
 *
 * A viewer not yet synced in this object's life (just opened, or open across an eviction) gets a
 * snapshot instead. Nothing runs, and nothing is kept, while no viewer is open.
 */
export class ViewerFeed {
  readonly #parts: ViewerFeedParts;
  #live: Map<string, LiveEntry> | undefined;
  #nextIndex = 0;
  readonly #free: number[] = [];
  /** Agents `write` touched since the last flush. */
  readonly #written = new Set<string>();
  readonly #synced = new WeakSet<ViewerSocket>();
  #pendingSnapshot = false;
  #count: number | undefined;
  #lastFlushAt = 0;
  #lastFleetAt = 0;
  /** The last full scan of every row and slow refresh (every LIVE_HEARTBEAT_MS). */
  #lastScanAt = 0;
  /** Bytes sent to viewers since this object started (all viewers; for the bench/test log line). */
  bytesSent = 0;

  constructor(parts: ViewerFeedParts) {
    this.#parts = parts;
    parts.rows.observeWrites((agentId) => {
      if (this.#live !== undefined) this.#written.add(agentId);
    });
  }

  /** Whether a viewer socket is open (counted once per open or close). */
  hasViewers(): boolean {
    this.#count ??= this.#parts.viewers().length;
    return this.#count > 0;
  }

  /** Whether one more viewer may open (MAX_VIEWERS per fleet). */
  hasRoom(): boolean {
    this.#count ??= this.#parts.viewers().length;
    return this.#count < MAX_VIEWERS;
  }

  /** A viewer socket was accepted: its snapshot goes out at the next flush (due at once). */
  opened(ws: ViewerSocket, attachment: ViewerAttachment): void {
    writeViewer(ws, attachment);
    this.#count = undefined;
    this.#pendingSnapshot = true;
  }

  closed(): void {
    this.#count = undefined;
  }

  /** A frame from a viewer: "ping" → "pong", anything else closes it with 1008. */
  receive(ws: ViewerSocket, frame: string | ArrayBuffer, now: number): void {
    const verdict = judgeViewerFrame(ws, frame, now);
    if ("reply" in verdict) sendToViewer(ws, verdict.reply);
    else closeViewer(ws, 1008, verdict.close);
  }

  /** Closes every viewer of a session (sign-out), or every viewer (null: all sessions revoked), with 4401; returns how many. */
  closeSession(sessionHash: string | null): number {
    let closed = 0;
    for (const ws of this.#parts.viewers()) {
      if (sessionHash !== null && readViewer(ws)?.sessionHash !== sessionHash) continue;
      closeViewer(ws, VIEWER_SESSION_CLOSE, "session ended");
      closed++;
    }
    this.#count = undefined;
    return closed;
  }

  /** The "viewers" task: null (no cost) without viewers; now for a snapshot; else the flush gap or the heartbeat. */
  nextDueAt(now: number): number | null {
    if (!this.hasViewers()) return null;
    // A viewer waiting for its snapshot, or the first flush of this object's life (viewers open across a wake-up).
    // Not merely "no live set": sockets still closing would otherwise make it due at every alarm.
    if (this.#pendingSnapshot || (this.#live === undefined && this.#lastFlushAt === 0)) return now;
    const heartbeat = Math.min(this.#lastFleetAt, this.#lastScanAt) + LIVE_HEARTBEAT_MS;
    const dirty = this.#written.size > 0 || this.#parts.agentsLive();
    return Math.max(this.#lastFlushAt + LIVE_FLUSH_GAP_MS, dirty ? this.#lastFlushAt + LIVE_FLUSH_GAP_MS : heartbeat);
  }

  /** Sends each viewer what changed since the last flush (or a snapshot). */
  flush(now: number): FlushReport {
    this.#lastFlushAt = now;
    this.#pendingSnapshot = false;
    const open: ViewerSocket[] = [];
    for (const ws of this.#parts.viewers()) {
      const viewer = readViewer(ws);
      if (ws.readyState !== SOCKET_OPEN || viewer === undefined) continue;
      if (viewer.expiresAt <= now) closeViewer(ws, VIEWER_SESSION_CLOSE, "session expired");
      else open.push(ws);
    }
    this.#count = undefined;
    if (open.length === 0) {
      // Nobody watching: forget the live set (a later viewer starts from a snapshot).
      this.#live = undefined;
      this.#written.clear();
      return { snapshots: 0, upserts: 0, removes: 0, framed: 0, fleet: false, bytes: 0 };
    }
    const fresh = open.filter((ws) => !this.#synced.has(ws));
    const heartbeat = now - this.#lastFleetAt >= LIVE_HEARTBEAT_MS - LIVE_FLUSH_GAP_MS / 2;
    const scan = now - this.#lastScanAt >= LIVE_HEARTBEAT_MS - LIVE_FLUSH_GAP_MS / 2;
    if (scan) this.#lastScanAt = now;
    const first = this.#live === undefined;
    const live = (this.#live ??= new Map());
    const upserts = new Map<string, LiveAgent>();
    const removes: number[] = [];
    const framed: PhaseEntry[] = [];

    // Every row at a heartbeat, a snapshot or the first flush (enrollments insert without a write).
    const listed = first || scan || fresh.length > 0 ? this.#parts.rows.list() : undefined;
    for (const row of listed ?? []) this.#consider(row, upserts, removes);
    for (const agentId of this.#written) {
      const row = this.#parts.rows.get(agentId);
      if (row !== undefined) this.#consider(row, upserts, removes);
    }
    this.#written.clear();
    for (const row of this.#parts.rows.connected()) {
      const entry = this.#consider(row, upserts, removes);
      if (entry === undefined || row.theta === null || row.summary_received_at === entry.summaryAt) continue;
      entry.summaryAt = row.summary_received_at;
      entry.agent = { ...entry.agent, theta: row.theta, omega: row.omega, coherence: row.coherence, t: row.summary_t ?? row.summary_received_at };
      if (!upserts.has(row.id)) framed.push({ i: entry.i, theta: row.theta, omega: row.omega ?? 0, coherence: row.coherence ?? 0, t: entry.agent.t ?? now });
    }
    if (scan) this.#refreshSlow(upserts, now);

    const statusChanged = upserts.size > 0 || removes.length > 0;
    const fleetDue = heartbeat || statusChanged || (framed.length > 0 && now - this.#lastFleetAt >= FLEET_WHILE_LIVE_MS);
    let fleet: LiveFleet | undefined;
    const fleetNow = (): LiveFleet => (fleet ??= this.#parts.views.fleet(now));

    const synced = first ? [] : open.filter((ws) => this.#synced.has(ws));
    let bytes = 0;
    const send = (sockets: readonly ViewerSocket[], data: string | Uint8Array) => {
      if (sockets.length === 0) return;
      bytes += byteLength(data) * sockets.length;
      for (const ws of sockets) sendToViewer(ws, data);
    };
    if (synced.length > 0) {
      if (statusChanged) {
        const message: AgentsMessage = { type: "agents", at: now, upsert: [...upserts.values()], remove: removes };
        send(synced, JSON.stringify(message));
      }
      if (framed.length > 0) send(synced, encodePhaseFrame(now, framed));
      if (fleetDue) {
        const current = fleetNow();
        const message: FleetMessage = { type: "fleet", at: now, fleet: current, sample: [now, current.field.r, current.field.psi] };
        send(synced, JSON.stringify(message));
      }
    }
    const snapshotFor = first ? open : fresh;
    if (snapshotFor.length > 0) {
      const message: SnapshotMessage = {
        type: "snapshot",
        at: now,
        fleet: fleetNow(),
        agents: [...live.values()].map((entry) => entry.agent),
        history: this.#parts.history.recent(now),
      };
      send(snapshotFor, JSON.stringify(message));
      for (const ws of snapshotFor) this.#synced.add(ws);
    }
    if (fleetDue || snapshotFor.length > 0) this.#lastFleetAt = now;
    // Indices freed in this flush are reused only from the next one: a viewer has had the removal first.
    this.bytesSent += bytes;
    return { snapshots: snapshotFor.length, upserts: upserts.size, removes: removes.length, framed: framed.length, fleet: fleetDue && synced.length > 0, bytes };
  }

  /** Brings `row`'s entry up to date; an upsert if its status changed, a removal if revoked. Returns the entry (none if revoked). */
  #consider(row: AgentRow, upserts: Map<string, LiveAgent>, removes: number[]): LiveEntry | undefined {
    const live = this.#live!;
    const entry = live.get(row.id);
    if (row.status === "revoked") {
      if (entry !== undefined) {
        live.delete(row.id);
        removes.push(entry.i);
        upserts.delete(row.id);
        this.#free.push(entry.i);
      }
      return undefined;
    }
    const statusKey = statusKeyOf(row);
    if (entry !== undefined) {
      if (entry.statusKey === statusKey) return entry;
      entry.statusKey = statusKey;
      entry.slowKey = slowKeyOf(row);
      entry.summaryAt = row.summary_received_at;
      entry.agent = liveAgent(entry.i, row);
      upserts.set(row.id, entry.agent);
      return entry;
    }
    const i = this.#allocate(removes);
    if (i === undefined) return undefined;
    const added: LiveEntry = { i, statusKey, slowKey: slowKeyOf(row), summaryAt: row.summary_received_at, slowSentAt: 0, agent: liveAgent(i, row) };
    live.set(row.id, added);
    upserts.set(row.id, added.agent);
    return added;
  }

  /** A free index not removed in this very flush, or a new one; undefined past u16. */
  #allocate(removedNow: readonly number[]): number | undefined {
    const k = this.#free.findIndex((i) => !removedNow.includes(i));
    if (k >= 0) return this.#free.splice(k, 1)[0];
    return this.#nextIndex <= MAX_LIVE_INDEX ? this.#nextIndex++ : undefined;
  }

  /** Re-sends up to SLOW_REFRESH_BUDGET connected agents whose slow columns changed, the longest-unsent first. */
  #refreshSlow(upserts: Map<string, LiveAgent>, now: number): void {
    const changed: { entry: LiveEntry; row: AgentRow; slowKey: string }[] = [];
    for (const row of this.#parts.rows.connected()) {
      const entry = this.#live!.get(row.id);
      if (entry === undefined || upserts.has(row.id)) continue;
      const slowKey = slowKeyOf(row);
      if (slowKey !== entry.slowKey) changed.push({ entry, row, slowKey });
    }
    changed.sort((a, b) => a.entry.slowSentAt - b.entry.slowSentAt);
    for (const { entry, row, slowKey } of changed.slice(0, SLOW_REFRESH_BUDGET)) {
      entry.slowKey = slowKey;
      entry.slowSentAt = now;
      entry.summaryAt = row.summary_received_at;
      entry.agent = liveAgent(entry.i, row);
      upserts.set(row.id, entry.agent);
    }
  }
}
