import { DurableObject } from "cloudflare:workers";
import { absorbClock, assessPeerClock, driftExcludes, fieldMembers, CAUSAL_RULES, DEFAULT_STANDING_RULES, type ClockMessageKind } from "../../shared/causality/index.js";
import { meanField, wrapPhase, type MeanField, type PhaseReport } from "../../shared/kuramoto/index.js";
import { isLogError, validateRecordFields } from "../../shared/log/index.js";
import { parseSignerKey, type NoteSigner } from "../../shared/note/index.js";
import {
  base64UrlToBytes,
  bytesToBase64,
  decodeAgentMessage,
  LIMITS,
  recordFromWire,
  type FleetConfig,
  type FleetConfigPatch,
  type Hello,
  type RecordsBatch,
  type Summary,
} from "../../shared/protocol/index.js";
import { errorBody, failure, success, type Outcome } from "../http/api-error.js";
import type { AgentCredential } from "../auth/agent-jwt.js";
import type { Env } from "../env.js";
import {
  closeReplaced,
  closeReplacedAfterGrace,
  isCurrentConnection,
  markReplaced,
  readConnection,
  REPLACED_GRACE_MS,
  sendError,
  sendMessage,
  strike,
  writeConnection,
  type ConnectionState,
} from "./connection.js";
import { patchConfig, readConfig, readMeta, writeMeta } from "./fleet-config.js";
import { readPeerStanding, writePeerStanding } from "./peer-standing-store.js";
import {
  GlobalLog,
  type ConsistencyProofJson,
  type EntryJson,
  type InclusionProofBatchJson,
  type InclusionProofJson,
  type StoredCheckpoint,
} from "./global-log.js";
import { hitRateLimit, pruneRateLimits } from "./rate-limit.js";
import { RecordVerifier } from "./record-signature.js";
import {
  agentView,
  consumeJti,
  enrollAgent,
  getAgentRow,
  issueToken,
  listAgentRows,
  listTokens,
  revokeToken,
  standingReason,
  type AgentRow,
  type AgentView,
  type Enrolled,
  type EnrollRequest,
  type IssuedToken,
  type TokenSpec,
  type TokenView,
} from "./registry.js";
import { migrateSchema, SCHEMA_VERSION } from "./sql-schema.js";
import { CONNECT_HEADERS, DEFAULT_FLEET_ID, type FleetScope } from "./scope.js";

export { CONNECT_HEADERS, type FleetScope };

/** Enrollment attempts per client address per minute (ENROLL_RATE_PER_MINUTE overrides). */
const DEFAULT_ENROLL_RATE_PER_MINUTE = 30;
/** An agent's summary time further than this from ours is not trusted for alignment. */
const MAX_CLOCK_SKEW_MS = 2000;
/** Summaries an agent may send back to back (token bucket capacity); the average stays ≤ summaryHz. */
const SUMMARY_BURST = 2;
/** Messages per second a connection may send on average, and back to back. */
const { connectionMessagesPerSecond: MESSAGE_RATE_PER_S, connectionMessageBurst: MESSAGE_BURST } = LIMITS;
/** The next alarm is at least this far after the one running. */
const ALARM_MIN_GAP_MS = 20;
/** Housekeeping (jti and rate-limit pruning, offline sweep) runs at least this often while active. */
const SWEEP_INTERVAL_MS = 5000;

/** A refused upgrade as the JSON error response the Worker relays. */
function refusal(outcome: Outcome<never>): Response {
  if (outcome.ok) throw new TypeError("refusal() takes a failure");
  return Response.json(errorBody(outcome.error), { status: outcome.error.status });
}

export interface FleetView {
  readonly fleetId: string;
  readonly origin: string;
  readonly audience: string;
  readonly config: FleetConfig;
  readonly lamport: number;
  readonly agents: { readonly total: number; readonly active: number; readonly pending: number; readonly revoked: number; readonly online: number; readonly quarantined: number };
  readonly field: MeanField;
  readonly log: { readonly size: number; readonly checkpoint: { readonly size: number; readonly root: string; readonly createdAt: string } | null };
}

/**
 * One fleet: its registry, sockets, mean field and global log, all state in SQLite. A thin shell that
 * maps RPC calls, socket events and alarms onto the plain modules beside it. Every wake-up (a call,
 * a socket event, an alarm) first runs `#ready`, which rebuilds what memory held from storage.
 */
export class Fleet extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #log: GlobalLog;
  readonly #verifier = new RecordVerifier();
  readonly #buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();
  #schemaReady = false;
  #signer: NoteSigner | null | undefined;
  /** Caches of SQLite contents, rebuilt lazily after eviction. */
  #config: FleetConfig | undefined;
  #checkpointed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#log = new GlobalLog(this.#sql);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /**
   * Opens the fleet's storage. `create` false: a fleet nobody created (only admin routes and the
   * default fleet create one) stays nonexistent, so public routes with made-up fleet names cannot
   * make the platform store anything. Returns whether the fleet exists.
   */
  #ready(scope?: FleetScope, create = true): boolean {
    if (!this.#schemaReady) {
      const hasSchema = this.#sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).toArray().length > 0;
      if (!hasSchema && !create) return false;
      migrateSchema(this.#sql);
      if (readMeta(this.#sql, "schema_version") === undefined) writeMeta(this.#sql, "schema_version", String(SCHEMA_VERSION));
      this.#schemaReady = true;
      this.#reconcileConnections();
    }
    if (scope !== undefined && readMeta(this.#sql, "fleet_id") === undefined) {
      if (!create) return false;
      // The first request fixes the fleet's identity; the origin must never change afterwards, or
      // checkpoints would stop verifying against what auditors pinned.
      writeMeta(this.#sql, "fleet_id", scope.fleetId);
      const configured = this.env.LOG_ORIGIN?.trim();
      const origin = configured ? configured.replaceAll("{fleet}", scope.fleetId) : `${scope.host}/fleet/${scope.fleetId}`;
      writeMeta(this.#sql, "origin", origin);
    }
    if (!this.#checkpointed) {
      const signer = this.#noteSigner();
      if (signer !== null && readMeta(this.#sql, "origin") !== undefined) {
        if (this.#log.latestCheckpoint() === undefined) this.#log.publishCheckpoint(this.#origin, signer, Date.now());
        this.#checkpointed = true;
      }
    }
    return true;
  }

  /**
   * Agents marked connected whose sockets the runtime no longer holds (the process restarted, or a
   * close was lost) are not connected. Hibernated sockets survive eviction and still count.
   */
  #reconcileConnections(): void {
    const live = new Set(this.ctx.getWebSockets().map((ws) => readConnection(ws)?.agentId));
    for (const { id } of this.#sql.exec<{ id: string }>(`SELECT id FROM agents WHERE connected = 1`).toArray()) {
      if (live.has(id)) continue;
      this.#sql.exec(`UPDATE agents SET connected = 0, online = 0 WHERE id = ?`, id);
      this.#outbox("agent.offline", { agentId: id, reason: "connection lost" }, Date.now());
    }
  }

  /** Public routes may only create the default fleet. */
  #readyPublic(scope: FleetScope): boolean {
    return this.#ready(scope, scope.fleetId === DEFAULT_FLEET_ID);
  }

  #fleetConfig(): FleetConfig {
    this.#config ??= readConfig(this.#sql);
    return this.#config;
  }

  get #fleetId(): string {
    return readMeta(this.#sql, "fleet_id") ?? "default";
  }

  get #origin(): string {
    return readMeta(this.#sql, "origin") ?? `fleet/${this.#fleetId}`;
  }

  /** The JWT audience agents of this fleet must use. */
  get #audience(): string {
    return `urn:becomingone:fleet:${this.#fleetId}`;
  }

  #noteSigner(): NoteSigner | null {
    if (this.#signer === undefined) {
      try {
        this.#signer = this.env.LOG_SIGNING_KEY ? parseSignerKey(this.env.LOG_SIGNING_KEY.trim()) : null;
      } catch {
        this.#signer = null;
      }
    }
    return this.#signer;
  }

  #lamport(): number {
    return Number(readMeta(this.#sql, "lamport") ?? "0");
  }

  #setLamport(value: number): void {
    writeMeta(this.#sql, "lamport", String(value));
  }

  /**
   * An agent's clock, judged by the causal rules (shared/causality assessPeerClock: replay, jump,
   * sustained drift) and, only if accepted from an agent in good standing, absorbed with a bounded
   * step (absorbClock): no message moves the fleet clock by more than the causal bound, nor past
   * LIMITS.lamportMax. A violation is answered with its error code. Records have no other standing
   * step, so their standing changes are announced here; hello and summary announce their own.
   * Returns the fleet clock for the reply.
   */
  #receiveClock(
    ws: WebSocket,
    row: AgentRow,
    message: { readonly kind: ClockMessageKind; readonly lamport: number; readonly sentAt: number | null; readonly tokenHz: number | null },
    now: number,
  ): { lamport: number; accepted: boolean } {
    const config = this.#fleetConfig();
    const before = readPeerStanding(this.#sql, row.id);
    // Clamped: a fleet clock written before the protocol maximum existed must not be echoed as is.
    const local = Math.min(this.#lamport(), LIMITS.lamportMax);
    const update = assessPeerClock(
      before,
      {
        kind: message.kind,
        lamport: message.lamport,
        tokenHz: message.tokenHz ?? row.token_hz,
        sentAt: message.sentAt,
        now,
        localLamport: local,
        latencyMs: CAUSAL_RULES.defaultLatencyMs,
        mergeHz: config.fieldHz,
      },
      { ...DEFAULT_STANDING_RULES, maxCausalOvershoot: config.drift.maxCausalOvershoot },
    );
    writePeerStanding(this.#sql, row.id, update.standing, now);
    const verdict = update.verdict;
    let lamport = local;
    if (verdict.kind === "accept") {
      if (verdict.absorbStep !== null) lamport = absorbClock(local, message.lamport, verdict.absorbStep, LIMITS.lamportMax);
      if (lamport !== local) this.#setLamport(lamport);
      if (verdict.lifted) this.#outbox("agent.released", { agentId: row.id }, now);
    } else {
      if (before.quarantine === null) this.#outbox("agent.quarantined", { agentId: row.id, reason: verdict.reason }, now);
      sendError(ws, verdict.kind === "replay" ? "lamport_replay" : "lamport_jump", verdict.reason, {
        ref: message.kind,
        details: { lamport: message.lamport, excess: Math.round(verdict.excess), bound: verdict.bound },
      });
    }
    if (update.drift === "flagged") this.#outbox("agent.quarantined", { agentId: row.id, reason: `causal drift: ${update.standing.drift}` }, now);
    if (update.drift === "cleared") this.#outbox("agent.released", { agentId: row.id }, now);
    if (message.kind === "records") this.#announceStanding(ws, row, config, now);
    return { lamport, accepted: verdict.kind === "accept" };
  }

  /** Tells the agent when its standing changed, and everyone when the field's membership did. */
  #announceStanding(ws: WebSocket, before: AgentRow, config: FleetConfig, now: number): void {
    const after = getAgentRow(this.#sql, before.id);
    if (after === undefined) return;
    const [was, is] = [standingReason(before), standingReason(after)];
    if (was !== is) sendMessage(ws, { type: "standing", quarantined: is !== null, reason: is, weight: is === null ? 1 : 0 });
    // A changed standing may change who else is in the field (driftExcludes counts the fleet).
    if (was !== is || this.#inField(before, config, now) !== this.#inField(after, config, now)) this.#broadcastField(now);
  }

  /** A tick for a broadcast; the clock never passes the protocol maximum. */
  #tickClock(): number {
    const next = Math.min(this.#lamport() + 1, LIMITS.lamportMax);
    this.#setLamport(next);
    return next;
  }

  #outbox(kind: string, payload: Record<string, unknown>, now: number): void {
    this.#sql.exec(`INSERT INTO outbox (kind, payload, created_at) VALUES (?, ?, ?)`, kind, JSON.stringify(payload), now);
  }

  // ---- enrollment and registry (RPC from the Worker) -------------------------------------------

  async createEnrollmentToken(scope: FleetScope, spec: TokenSpec): Promise<Outcome<IssuedToken>> {
    this.#ready(scope);
    return success(issueToken(this.#sql, spec, Date.now()));
  }

  async listEnrollmentTokens(scope: FleetScope): Promise<Outcome<TokenView[]>> {
    this.#ready(scope);
    return success(listTokens(this.#sql));
  }

  async revokeEnrollmentToken(scope: FleetScope, id: string): Promise<Outcome<TokenView>> {
    this.#ready(scope);
    return revokeToken(this.#sql, id, Date.now());
  }

  async enroll(
    scope: FleetScope,
    request: { token: string; publicKeyX: string; name: string; hardware?: string | undefined },
    client: string,
  ): Promise<Outcome<Enrolled & { fleetId: string; audience: string }>> {
    if (!this.#readyPublic(scope)) return failure(401, "enrollment_token_unknown", "the enrollment token is not known to this fleet");
    const now = Date.now();
    const limit = Number(this.env.ENROLL_RATE_PER_MINUTE ?? DEFAULT_ENROLL_RATE_PER_MINUTE);
    const decision = hitRateLimit(this.#sql, `enroll:${client}`, Number.isFinite(limit) && limit > 0 ? limit : DEFAULT_ENROLL_RATE_PER_MINUTE, 60_000, now);
    if (!decision.allowed) {
      return failure(429, "rate_limited", `too many enrollment attempts: ${decision.count} in this minute, limit ${decision.limit}`, {
        limit: decision.limit,
        retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000),
      });
    }
    const enrollRequest: EnrollRequest = {
      token: request.token,
      publicKey: base64UrlToBytes(request.publicKeyX),
      publicKeyX: request.publicKeyX,
      name: request.name,
      hardware: request.hardware,
    };
    const outcome = this.ctx.storage.transactionSync(() => {
      const result = enrollAgent(this.#sql, enrollRequest, now);
      if (result.ok) this.#outbox("agent.enrolled", { agentId: result.value.agentId, status: result.value.status, name: request.name }, now);
      return result;
    });
    if (!outcome.ok) return outcome;
    return success({ ...outcome.value, fleetId: this.#fleetId, audience: this.#audience });
  }

  async listAgents(scope: FleetScope): Promise<Outcome<AgentView[]>> {
    this.#ready(scope);
    const now = Date.now();
    const config = this.#fleetConfig();
    const excludes = this.#driftExcludes(config, now);
    return success(listAgentRows(this.#sql).map((row) => agentView(row, this.#inField(row, config, now, excludes))));
  }

  async getAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    const row = getAgentRow(this.#sql, agentId);
    if (row === undefined) return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${this.#fleetId}`);
    return success(agentView(row, this.#inField(row, this.#fleetConfig(), Date.now())));
  }

  async approveAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    const row = getAgentRow(this.#sql, agentId);
    if (row === undefined) return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${this.#fleetId}`);
    if (row.status === "revoked") return failure(409, "agent_revoked", `agent ${agentId} was revoked; a revoked agent cannot be approved`);
    const now = Date.now();
    if (row.status === "pending") {
      this.#sql.exec(`UPDATE agents SET status = 'active', approved_at = ? WHERE id = ?`, now, agentId);
      this.#outbox("agent.approved", { agentId }, now);
    }
    return this.getAgent(scope, agentId);
  }

  /** Revokes an agent and closes its sockets at once. */
  async revokeAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    const row = getAgentRow(this.#sql, agentId);
    if (row === undefined) return failure(404, "agent_not_found", `no agent ${agentId} in fleet ${this.#fleetId}`);
    const now = Date.now();
    if (row.status !== "revoked") {
      this.#sql.exec(`UPDATE agents SET status = 'revoked', revoked_at = ?, connected = 0, online = 0 WHERE id = ?`, now, agentId);
      this.#outbox("agent.revoked", { agentId }, now);
    }
    for (const ws of this.ctx.getWebSockets(agentId)) {
      try {
        ws.close(1008, "agent revoked");
      } catch {
        // already closing
      }
    }
    this.#broadcastField(now);
    return this.getAgent(scope, agentId);
  }

  async fleetView(scope: FleetScope): Promise<Outcome<FleetView>> {
    this.#ready(scope);
    const now = Date.now();
    const config = this.#fleetConfig();
    const rows = listAgentRows(this.#sql);
    const checkpoint = this.#log.latestCheckpoint();
    return success({
      fleetId: this.#fleetId,
      origin: this.#origin,
      audience: this.#audience,
      config,
      lamport: this.#lamport(),
      agents: {
        total: rows.length,
        active: rows.filter((r) => r.status === "active").length,
        pending: rows.filter((r) => r.status === "pending").length,
        revoked: rows.filter((r) => r.status === "revoked").length,
        online: rows.filter((r) => r.online === 1).length,
        quarantined: rows.filter((r) => standingReason(r) !== null).length,
      },
      field: this.#computeField(config, now),
      log: {
        size: this.#log.size,
        checkpoint: checkpoint === undefined ? null : { size: checkpoint.size, root: bytesToBase64(checkpoint.root), createdAt: new Date(checkpoint.createdAt).toISOString() },
      },
    });
  }

  async updateConfig(scope: FleetScope, patch: FleetConfigPatch): Promise<Outcome<FleetConfig>> {
    this.#ready(scope);
    let config: FleetConfig;
    try {
      config = patchConfig(this.#sql, patch);
      this.#config = config;
    } catch (err) {
      return failure(400, "invalid_config", `the resulting config is invalid: ${err instanceof Error ? err.message : String(err)}`);
    }
    const now = Date.now();
    this.#outbox("fleet.config", { version: config.version }, now);
    for (const ws of this.#helloedSockets()) sendMessage(ws, { type: "config", config });
    await this.#schedule(now);
    return success(config);
  }

  /** What the Worker needs to verify an agent's connect JWT, or null for an unknown agent. */
  async agentCredential(scope: FleetScope, agentId: string): Promise<AgentCredential | null> {
    if (!this.#readyPublic(scope)) return null;
    const row = getAgentRow(this.#sql, agentId);
    return row === undefined ? null : { publicKeyX: row.public_key_x, status: row.status, audience: this.#audience };
  }

  // ---- the global log (RPC from the Worker's public routes) ------------------------------------

  async checkpoint(scope: FleetScope): Promise<Outcome<{ note: string; size: number }>> {
    if (!this.#readyPublic(scope)) return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
    const latest = this.#log.latestCheckpoint();
    if (latest === undefined) return failure(503, "log_signing_key_missing", "the log has no checkpoint: LOG_SIGNING_KEY is not configured");
    return success({ note: latest.note, size: latest.size });
  }

  async inclusionProof(scope: FleetScope, query: { index?: number; agentId?: string; seq?: number; size?: number }): Promise<Outcome<InclusionProofJson & { agentId: string; seq: number }>> {
    if (!this.#readyPublic(scope)) return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
    let index = query.index;
    if (index === undefined) {
      const found = query.agentId !== undefined && query.seq !== undefined ? this.#log.find(query.agentId, query.seq) : undefined;
      if (found === undefined) return failure(404, "entry_not_found", `no record (agent ${query.agentId}, seq ${query.seq}) in the global log`);
      index = found.index;
    }
    const size = query.size ?? this.#log.latestCheckpoint()?.size ?? this.#log.size;
    return this.#proof(() => {
      const proof = this.#log.inclusionProof(index, size);
      const entry = this.#sql.exec<{ agent_id: string; seq: number }>(`SELECT agent_id, seq FROM log_entries WHERE idx = ?`, index).toArray()[0];
      return { ...proof, agentId: entry?.agent_id ?? "", seq: entry?.seq ?? -1 };
    });
  }

  async inclusionProofs(scope: FleetScope, query: { indices: readonly number[]; size?: number }): Promise<Outcome<InclusionProofBatchJson>> {
    if (!this.#readyPublic(scope)) return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
    const size = query.size ?? this.#log.latestCheckpoint()?.size ?? this.#log.size;
    return this.#proof(() => this.#log.inclusionProofs(query.indices, size));
  }

  async consistencyProof(scope: FleetScope, query: { from: number; to?: number }): Promise<Outcome<ConsistencyProofJson>> {
    if (!this.#readyPublic(scope)) return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
    const to = query.to ?? this.#log.latestCheckpoint()?.size ?? this.#log.size;
    return this.#proof(() => this.#log.consistencyProof(query.from, to));
  }

  async entries(scope: FleetScope, start: number, end: number): Promise<Outcome<{ start: number; end: number; size: number; entries: EntryJson[] }>> {
    if (!this.#readyPublic(scope)) return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
    if (end < start) return failure(400, "bad_range", `end ${end} is before start ${start}`, { start, end });
    const entries = this.#log.entries(start, end);
    return success({ start, end: start + entries.length, size: this.#log.size, entries });
  }

  #proof<T>(build: () => T): Outcome<T> {
    try {
      return success(build());
    } catch (err) {
      if (isLogError(err)) return failure(400, "bad_proof_request", err.message, err.details);
      throw err;
    }
  }

  // ---- sockets ---------------------------------------------------------------------------------

  /** Accepts an upgrade the Worker has already authenticated (see CONNECT_HEADERS). */
  override async fetch(request: Request): Promise<Response> {
    const agentId = request.headers.get(CONNECT_HEADERS.agentId);
    const jti = request.headers.get(CONNECT_HEADERS.jti);
    const jtiExpiresAt = Number(request.headers.get(CONNECT_HEADERS.jtiExpiresAt));
    const fleetId = request.headers.get(CONNECT_HEADERS.fleetId);
    const host = request.headers.get(CONNECT_HEADERS.host);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !agentId || !jti || !fleetId || !host || !Number.isFinite(jtiExpiresAt)) {
      return refusal(failure(400, "bad_internal_request", "the Fleet object only accepts authenticated upgrades from the Worker"));
    }
    this.#ready({ fleetId, host });
    const now = Date.now();
    const row = getAgentRow(this.#sql, agentId);
    // Re-checked here: the agent may have been revoked between the Worker's check and now.
    if (row === undefined) return refusal(failure(401, "agent_unknown", `no agent ${agentId} is enrolled in this fleet`));
    if (row.status === "revoked") return refusal(failure(401, "agent_revoked", `agent ${agentId} has been revoked`));
    if (row.status !== "active") return refusal(failure(401, "agent_pending", `agent ${agentId} awaits an operator's approval`));
    if (!consumeJti(this.#sql, jti, agentId, jtiExpiresAt, now)) {
      return refusal(failure(401, "jwt_replayed", "this JWT id (jti) was already used; sign a fresh token"));
    }
    // One live connection per agent: the newest socket (highest generation) is the agent's current
    // one; every older one stops being served now and is closed with 4000 on its next message, or by
    // the timer when REPLACED_GRACE_MS ends (connection.ts says why not at once).
    const generation = Number(readMeta(this.#sql, "socket_generation") ?? "0") + 1;
    writeMeta(this.#sql, "socket_generation", String(generation));
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [agentId]);
    writeConnection(server, { agentId, generation, connectedAt: now, replacedAt: null, helloed: false, strikes: 0, strikeWindowStart: now });
    const sameAgent = this.ctx.getWebSockets(agentId);
    if (sameAgent.length > 1) {
      markReplaced(server, sameAgent, now);
      // A timer keeps the object awake; if it is evicted anyway, the alarm's sweep closes them.
      setTimeout(() => closeReplacedAfterGrace(this.ctx.getWebSockets(agentId), Date.now()), REPLACED_GRACE_MS + 50);
    }
    this.#sql.exec(`UPDATE agents SET connected = 1, online = 1, connected_at = ?, last_seen_at = ? WHERE id = ?`, now, now, agentId);
    this.#outbox("agent.online", { agentId }, now);
    await this.#schedule(now);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    const state = readConnection(ws);
    if (state === undefined) {
      try {
        ws.close(1011, "connection state lost");
      } catch {
        // already closing
      }
      return;
    }
    if (!isCurrentConnection(ws, state, this.ctx.getWebSockets(state.agentId))) {
      // Never served: closed from its own handler, the one place workerd ends the connection cleanly.
      closeReplaced(ws);
      return;
    }
    try {
      this.#ready();
      await this.#onMessage(ws, state, frame);
    } catch (err) {
      // Nothing a peer sends may throw out of the object: report, count, carry on.
      console.error("fleet: message handling failed", err);
      this.#log.reload();
      sendError(ws, "internal_error", "the edge could not process this message; it was not applied");
      strike(ws, state, Date.now());
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.#onClosed(ws, code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#onClosed(ws, 1011, "socket error");
  }

  #onClosed(ws: WebSocket, code: number, reason: string): void {
    try {
      this.#ready();
      const state = readConnection(ws);
      try {
        ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason.slice(0, 120));
      } catch {
        // already closed
      }
      if (state === undefined) return;
      const now = Date.now();
      // Replaced sockets closing change nothing; the current one closing takes the agent offline
      // even while replaced ones still wait for their close.
      const sameAgent = this.ctx.getWebSockets(state.agentId);
      const current = sameAgent.filter((other) => {
        const otherState = other === ws || other.readyState !== WebSocket.OPEN ? undefined : readConnection(other);
        return otherState !== undefined && isCurrentConnection(other, otherState, sameAgent);
      });
      if (state.replacedAt == null && current.length === 0) {
        this.#sql.exec(`UPDATE agents SET connected = 0, online = 0 WHERE id = ?`, state.agentId);
        this.#outbox("agent.offline", { agentId: state.agentId, code }, now);
        this.#broadcastField(now);
      }
    } catch (err) {
      console.error("fleet: close handling failed", err);
    }
  }

  async #onMessage(ws: WebSocket, state: ConnectionState, frame: string | ArrayBuffer): Promise<void> {
    const now = Date.now();
    if (!this.#admitMessage(ws, now)) {
      sendError(ws, "rate_limited", `at most ${MESSAGE_RATE_PER_S} messages per second per connection (bursts of ${MESSAGE_BURST})`, {
        details: { perSecond: MESSAGE_RATE_PER_S, burst: MESSAGE_BURST },
      });
      strike(ws, state, now);
      return;
    }
    const decoded = decodeAgentMessage(frame);
    if (!decoded.ok) {
      sendError(ws, decoded.code, decoded.message, { ref: decoded.ref });
      strike(ws, state, now);
      return;
    }
    const message = decoded.message;
    const row = getAgentRow(this.#sql, state.agentId);
    if (row === undefined || row.status !== "active") {
      ws.close(1008, "agent is not active");
      return;
    }
    this.#sql.exec(`UPDATE agents SET last_seen_at = ?, online = 1 WHERE id = ?`, now, state.agentId);
    if (message.type === "ping") {
      sendMessage(ws, { type: "pong", nonce: message.nonce, serverTime: now });
      return;
    }
    if (message.type === "hello") {
      this.#onHello(ws, state, row, message, now);
      return;
    }
    if (!state.helloed) {
      sendError(ws, "hello_required", "send hello before any other message", { ref: message.type });
      strike(ws, state, now);
      return;
    }
    if (message.type === "summary") {
      this.#onSummary(ws, state, row, message, now);
    } else {
      // Signatures first (async, needs only the immutable key); then every state read and write in
      // one synchronous step, so an interleaved message can never see half of this one.
      const verdicts = await this.#verifySignatures(row, message);
      const current = getAgentRow(this.#sql, row.id);
      if (current === undefined || current.status !== "active") return;
      this.#onRecords(ws, state, current, message, verdicts, Date.now());
    }
    await this.#schedule(now);
  }

  /**
   * A per-connection token bucket over all messages, so a flood of valid ones (pings, tiny batches)
   * cannot monopolise the object. Memory only: a wake-up from hibernation starts a fresh bucket.
   */
  #admitMessage(ws: WebSocket, now: number): boolean {
    const bucket = this.#buckets.get(ws) ?? { tokens: MESSAGE_BURST, at: now };
    bucket.tokens = Math.min(MESSAGE_BURST, bucket.tokens + ((now - bucket.at) / 1000) * MESSAGE_RATE_PER_S);
    bucket.at = now;
    this.#buckets.set(ws, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #onHello(ws: WebSocket, state: ConnectionState, row: AgentRow, hello: Hello, now: number): void {
    if (hello.agentId !== state.agentId) {
      sendError(ws, "agent_mismatch", `this connection is authenticated as ${state.agentId}, not ${hello.agentId}`, { ref: "hello" });
      strike(ws, state, now);
      return;
    }
    // A hello opens a session: its clock sets the agent's baseline (a restarted agent may be behind).
    const { lamport } = this.#receiveClock(ws, row, { kind: "hello", lamport: hello.lamport, sentAt: null, tokenHz: null }, now);
    this.#sql.exec(
      `UPDATE agents SET software = ?, agent_log_size = ?, agent_log_root = ? WHERE id = ?`,
      hello.software ?? null,
      hello.agentLog?.size ?? null,
      hello.agentLog?.root ?? null,
      row.id,
    );
    state.helloed = true;
    writeConnection(ws, state);
    const config = this.#fleetConfig();
    const signer = this.#noteSigner();
    sendMessage(ws, {
      type: "welcome",
      agentId: row.id,
      fleetId: this.#fleetId,
      resume: { nextSeq: row.next_seq, lastAckedSeq: row.next_seq === 0 ? null : row.next_seq - 1 },
      lamport,
      serverTime: now,
      config,
      log: { origin: this.#origin, verifierKey: signer?.verifierKey ?? null, checkpoint: this.#log.latestCheckpoint()?.note ?? null },
    });
    sendMessage(ws, { type: "field", ...this.#fieldMessage(config, now) });
    const after = getAgentRow(this.#sql, row.id) ?? row;
    const reason = standingReason(after);
    sendMessage(ws, { type: "standing", quarantined: reason !== null, reason, weight: reason === null ? 1 : 0 });
  }

  #onSummary(ws: WebSocket, state: ConnectionState, row: AgentRow, summary: Summary, now: number): void {
    const config = this.#fleetConfig();
    // A token bucket: summaryHz per second on average, bursts of SUMMARY_BURST, so network jitter
    // never punishes an agent that keeps the rate.
    const tokens =
      row.summary_tokens === null || row.summary_tokens_at === null
        ? SUMMARY_BURST
        : Math.min(SUMMARY_BURST, row.summary_tokens + ((now - row.summary_tokens_at) / 1000) * config.summaryHz);
    if (tokens < 1) {
      sendError(ws, "rate_limited", `summaries at most ${config.summaryHz} per second (bursts of ${SUMMARY_BURST}); this one was refused`, {
        ref: "summary",
        details: { summaryHz: config.summaryHz, burst: SUMMARY_BURST },
      });
      this.#sql.exec(`UPDATE agents SET summary_tokens = ?, summary_tokens_at = ? WHERE id = ?`, tokens, now, row.id);
      strike(ws, state, now);
      return;
    }
    this.#sql.exec(`UPDATE agents SET summary_tokens = ?, summary_tokens_at = ? WHERE id = ?`, tokens - 1, now, row.id);
    const clock = this.#receiveClock(ws, row, { kind: "summary", lamport: summary.lamport, sentAt: summary.t, tokenHz: summary.tokenHz }, now);
    if (clock.accepted) {
      // Align phases to the edge's clock unless the agent's clock is plainly off.
      const t = Math.abs(summary.t - now) <= MAX_CLOCK_SKEW_MS ? summary.t : now;
      this.#sql.exec(
        `UPDATE agents SET summary_received_at = ?, summary_t = ?, theta = ?, omega = ?, coherence = ?, token_hz = ? WHERE id = ?`,
        now,
        t,
        wrapPhase(summary.theta),
        summary.omega,
        summary.coherence,
        summary.tokenHz,
        row.id,
      );
    }
    this.#announceStanding(ws, row, config, now);
  }

  async #verifySignatures(row: AgentRow, batch: RecordsBatch): Promise<boolean[]> {
    const publicKey = base64UrlToBytes(row.public_key_x);
    return Promise.all(
      batch.records.map((wire) => (wire.agentId === row.id ? this.#verifier.verify(recordFromWire(wire), publicKey) : Promise.resolve(false))),
    );
  }

  #onRecords(ws: WebSocket, state: ConnectionState, row: AgentRow, batch: RecordsBatch, signed: boolean[], now: number): void {
    const acks: { seq: number; index: number }[] = [];
    let nextSeq = row.next_seq;
    let refused = false;
    this.ctx.storage.transactionSync(() => {
      for (const [position, wire] of batch.records.entries()) {
        if (wire.agentId !== state.agentId) {
          sendError(ws, "agent_mismatch", `records must be this agent's own (${state.agentId}); got one for ${wire.agentId}`, {
            ref: "records",
            details: { seq: wire.seq },
          });
          refused = true;
          return;
        }
        const record = recordFromWire(wire);
        // The encoding first: a record without valid entry bytes has nothing to compare with a stored
        // one and nothing a signature could cover (its check would fail and misname the fault).
        try {
          validateRecordFields(record);
        } catch (err) {
          if (!isLogError(err)) throw err;
          sendError(ws, "bad_record", `record seq ${record.seq}: ${err.message}`, { ref: "records", details: { seq: record.seq } });
          refused = true;
          return;
        }
        if (record.seq < nextSeq) {
          const existing = this.#log.find(record.agentId, record.seq);
          const outcome = existing === undefined ? undefined : this.#log.append(record, now);
          if (outcome === undefined || outcome.kind === "conflict") {
            sendError(ws, "seq_conflict", `seq ${record.seq} was already acknowledged with different content`, { ref: "records", details: { seq: record.seq } });
            refused = true;
            return;
          }
          acks.push({ seq: record.seq, index: outcome.index });
          continue;
        }
        if (record.seq > nextSeq) {
          sendError(ws, "seq_gap", `expected seq ${nextSeq}, got ${record.seq}; resend from ${nextSeq}`, {
            ref: "records",
            details: { expected: nextSeq, got: record.seq },
          });
          refused = true;
          return;
        }
        if (!signed[position]) {
          sendError(ws, "bad_signature", `record seq ${record.seq} is not signed by this agent's enrolled key`, { ref: "records", details: { seq: record.seq } });
          refused = true;
          return;
        }
        let outcome;
        try {
          outcome = this.#log.append(record, now);
        } catch (err) {
          if (!isLogError(err)) throw err;
          sendError(ws, "bad_record", `record seq ${record.seq}: ${err.message}`, { ref: "records", details: { seq: record.seq } });
          refused = true;
          return;
        }
        acks.push({ seq: record.seq, index: outcome.index });
        nextSeq += 1;
      }
    });
    if (nextSeq !== row.next_seq) this.#sql.exec(`UPDATE agents SET next_seq = ? WHERE id = ?`, nextSeq, row.id);
    const lamport = this.#receiveClock(ws, row, { kind: "records", lamport: batch.lamport, sentAt: null, tokenHz: null }, now).lamport;
    // Every records message gets its ack, a refused one too (after its error, possibly with no acks):
    // agents move their resume point by nextSeq.
    sendMessage(ws, { type: "ack", acks, nextSeq, lamport });
    if (refused) strike(ws, state, now);
  }

  // ---- mean field ------------------------------------------------------------------------------

  /** `excludesDrift` is counted over the fleet only when needed: for an agent flagged for drift. */
  #inField(row: AgentRow, config: FleetConfig, now: number, excludesDrift?: boolean): boolean {
    const eligible =
      row.status === "active" &&
      row.connected === 1 &&
      row.online === 1 &&
      row.quarantine_reason === null &&
      row.theta !== null &&
      row.summary_received_at !== null &&
      now - row.summary_received_at <= config.peerAgeMs;
    return eligible && (row.drift_reason === null || !(excludesDrift ?? this.#driftExcludes(config, now)));
  }

  /** The agents the field may hold: connected, fresh, not quarantined; drifting or not. */
  #fieldCandidates(config: FleetConfig, now: number): (PhaseReport & { drifting: boolean })[] {
    return this.#sql
      .exec<{ theta: number; omega: number; summary_t: number; drifting: number }>(
        `SELECT theta, omega, summary_t, drift_reason IS NOT NULL AS drifting FROM agents
         WHERE status = 'active' AND connected = 1 AND online = 1 AND quarantine_reason IS NULL
           AND theta IS NOT NULL AND summary_received_at >= ?`,
        now - config.peerAgeMs,
      )
      .toArray()
      .map((r) => ({ theta: r.theta, omega: r.omega, t: r.summary_t, weight: 1, drifting: r.drifting === 1 }));
  }

  /** Whether the soft drift flag excludes flagged agents right now (never when that would gut the field). */
  #driftExcludes(config: FleetConfig, now: number): boolean {
    const candidates = this.#fieldCandidates(config, now);
    const drifting = candidates.filter((c) => c.drifting).length;
    return driftExcludes(candidates.length - drifting, drifting);
  }

  #computeField(config: FleetConfig, now: number): MeanField {
    return meanField(fieldMembers(this.#fieldCandidates(config, now)), now);
  }

  #fieldMessage(config: FleetConfig, now: number) {
    const field = this.#computeField(config, now);
    return { r: field.r, psi: field.psi, omega: field.omega, n: field.n, t: now, lamport: this.#tickClock(), configVersion: config.version };
  }

  #helloedSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => readConnection(ws)?.helloed === true);
  }

  #broadcastField(now: number): void {
    const sockets = this.#helloedSockets();
    if (sockets.length === 0) return;
    const message = { type: "field" as const, ...this.#fieldMessage(this.#fleetConfig(), now) };
    for (const ws of sockets) sendMessage(ws, message);
    writeMeta(this.#sql, "last_field_at", String(now));
  }

  // ---- alarms ----------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.#ready();
    const now = Date.now();
    const config = this.#fleetConfig();
    try {
      if (this.ctx.getWebSockets().length > 0 && now >= this.#nextFieldAt(config)) this.#broadcastField(now);
      this.#sweep(config, now);
      const signer = this.#noteSigner();
      if (signer !== null && this.#log.needsCheckpoint() && now >= this.#log.nextCheckpointAt(now)) {
        const checkpoint = this.#log.publishCheckpoint(this.#origin, signer, now);
        if (checkpoint !== undefined) this.#announceCheckpoint(checkpoint, now);
      }
    } finally {
      // Strictly later than this run: re-setting the alarm to an instant that may equal the one
      // being run let the runtime clear it after the handler, silently ending the chain.
      await this.#schedule(now, { minGapMs: ALARM_MIN_GAP_MS, fromAlarm: true });
    }
  }

  #nextFieldAt(config: FleetConfig): number {
    return Number(readMeta(this.#sql, "last_field_at") ?? "0") + 1000 / config.fieldHz;
  }

  #announceCheckpoint(checkpoint: StoredCheckpoint, now: number): void {
    this.#outbox("log.checkpoint", { size: checkpoint.size, root: bytesToBase64(checkpoint.root) }, now);
    const message = { type: "checkpoint" as const, size: checkpoint.size, root: bytesToBase64(checkpoint.root), note: checkpoint.note };
    for (const ws of this.#helloedSockets()) sendMessage(ws, message);
  }

  /** Marks silent agents offline, forgets expired jti and rate windows. */
  #sweep(config: FleetConfig, now: number): void {
    const stale = this.#sql
      .exec<{ id: string }>(`SELECT id FROM agents WHERE online = 1 AND (last_seen_at IS NULL OR last_seen_at < ?)`, now - config.offlineAfterMs)
      .toArray();
    for (const { id } of stale) {
      this.#sql.exec(`UPDATE agents SET online = 0 WHERE id = ?`, id);
      this.#outbox("agent.offline", { agentId: id, reason: "silent" }, now);
    }
    this.#reconcileConnections();
    closeReplacedAfterGrace(this.ctx.getWebSockets(), now);
    if (stale.length > 0) this.#broadcastField(now);
    this.#sql.exec(`DELETE FROM used_jti WHERE expires_at < ?`, now);
    pruneRateLimits(this.#sql, 60_000, now);
    writeMeta(this.#sql, "last_sweep_at", String(now));
  }

  /** Sets the alarm to the earliest thing due: a field broadcast, a checkpoint, a sweep. */
  async #schedule(now: number, options: { minGapMs?: number; fromAlarm?: boolean } = {}): Promise<void> {
    const minGapMs = options.minGapMs ?? 0;
    const config = this.#fleetConfig();
    const due: number[] = [];
    if (this.ctx.getWebSockets().length > 0) {
      due.push(Math.max(now, this.#nextFieldAt(config)));
      due.push(Number(readMeta(this.#sql, "last_sweep_at") ?? "0") + SWEEP_INTERVAL_MS);
    }
    if (this.#noteSigner() !== null && this.#log.needsCheckpoint()) due.push(this.#log.nextCheckpointAt(now));
    const online = this.#sql.exec<{ oldest: number | null }>(`SELECT MIN(last_seen_at) AS oldest FROM agents WHERE online = 1`).toArray()[0];
    if (online?.oldest != null) due.push(online.oldest + config.offlineAfterMs);
    if (due.length === 0) return;
    const at = Math.max(now + minGapMs, Math.min(...due));
    // Read, not cached: the runtime owns the alarm (it deletes it after a run), and a stale cache
    // could leave the object without one. From the alarm itself, always set: the alarm being run
    // may still read as pending.
    const current = options.fromAlarm ? null : await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
