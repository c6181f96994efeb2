import { DurableObject } from "cloudflare:workers";
import { base64UrlToBytes, type FleetConfig, type FleetConfigPatch } from "../../shared/protocol/index.js";
import type { ConsistencyProofDocument, InclusionProofDocument } from "../../shared/log/index.js";
import { errorBody, failure, success, type Outcome } from "../http/api-error.js";
import type { AgentCredential } from "../auth/agent-jwt.js";
import type { Env } from "../env.js";
import { AgentRows, FLUSH_INTERVAL_MS } from "./agent-rows.js";
import { AgentSession } from "./agent-session.js";
import { AgentCheckpoints } from "./agent-checkpoints.js";
import { AgentLogQueries, type AgentCheckpointJson, type AgentCheckpointQuery } from "./agent-log-queries.js";
import { AgentLogs } from "./agent-logs.js";
import { CheckpointCadence } from "./checkpoint-cadence.js";
import { CheckpointEvents } from "./checkpoint-events.js";
import { closeQuietly, closeReplaced, closeReplacedAfterGrace, readConnection, sendMessage } from "./connection.js";
import { cadenceTask, DeadlineScheduler } from "./deadline-scheduler.js";
import { Field } from "./field.js";
import { FleetClock } from "./fleet-clock.js";
import { applyConfigPatch } from "./fleet-config.js";
import { FleetIdentity } from "./fleet-identity.js";
import { FleetSockets } from "./fleet-sockets.js";
import { FleetViews, type AgentView, type FleetView } from "./fleet-view.js";
import { GlobalLog, type ConsistencyProofJson, type EntryJson, type InclusionProofBatchJson, type InclusionProofJson } from "./global-log.js";
import { backfillKeyHistory } from "./key-history.js";
import { pruneJti } from "./jti-store.js";
import { LogQueries } from "./log-queries.js";
import type { CheckpointQuery, PublishedCheckpoint } from "./published-checkpoint.js";
import { MeshWatch } from "./mesh-watch.js";
import { Presence } from "./presence.js";
import { enrollmentRateRefusal, pruneRateLimits } from "./rate-limit.js";
import { RecordVerifier } from "./record-signature.js";
import * as registry from "./registry.js";
import type { Enrolled, IssuedToken, TokenSpec, TokenView } from "./registry.js";
import { CONNECT_HEADERS, DEFAULT_FLEET_ID, readConnectRequest, type FleetScope } from "./scope.js";
import type { FleetStorage } from "./sql-database.js";
import { Standing } from "./standing.js";
import * as sessions from "./session-store.js";
import { agentRecords, type AgentRecordsPage } from "./agent-records.js";
import type { AgentKeysJson } from "../../shared/api/index.js";
import type { AttemptView, EndpointCreate, EndpointPatch, EndpointView, EndpointWithSecret, MessageView, Page } from "../../shared/webhooks/index.js";
import { webhookSettings } from "../webhooks/webhook-env.js";
import type { WebhookRpc } from "../webhooks/webhook-rpc.js";
import { WebhookService } from "../webhooks/webhook-service.js";
import { ViewerFeed } from "./viewer-feed.js";
import { ViewerHistory } from "./viewer-history.js";
import { readViewerRequest, type ViewerRequest } from "./viewer-request.js";
import { closeViewer, readViewer, VIEWER_TAG } from "./viewer-socket.js";

export { CONNECT_HEADERS, type FleetScope, type FleetView };

/** Housekeeping (jti and rate-limit pruning, replaced sockets, reconcile) runs at least this often while sockets are open. */
const SWEEP_INTERVAL_MS = 5000;

/** A refused upgrade as the JSON error response the Worker relays. */
function refusal(outcome: Outcome<never>): Response {
  if (outcome.ok) throw new TypeError("refusal() takes a failure");
  return Response.json(errorBody(outcome.error), { status: outcome.error.status });
}

/**
 * One fleet: its registry, sockets, mean field and global log, all state in SQLite. A thin shell
 * over the platform's lifecycle (RPC, upgrade, socket events, the alarm) that maps each event onto
 * the plain modules beside it (docs/edge.md has the map). Every wake-up first runs `#ready`, which
 * opens the storage and reconciles what memory held with it.
 */
export class Fleet extends DurableObject<Env> implements WebhookRpc {
  readonly #storage: FleetStorage;
  readonly #rows: AgentRows;
  readonly #clock: FleetClock;
  readonly #sockets: FleetSockets;
  readonly #identity: FleetIdentity;
  readonly #presence: Presence;
  readonly #field: Field;
  readonly #checkpoints: CheckpointCadence;
  readonly #views: FleetViews;
  readonly #logQueries: LogQueries;
  readonly #agentLogQueries: AgentLogQueries;
  readonly #log: GlobalLog;
  readonly #session: AgentSession;
  readonly #scheduler: DeadlineScheduler;
  readonly #webhooks: WebhookService;
  readonly #history: ViewerHistory;
  readonly #viewers: ViewerFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    const storage: FleetStorage = (this.#storage = { sql, transaction: (work) => ctx.storage.transactionSync(work) });
    const sockets = (this.#sockets = new FleetSockets(ctx));
    const identity = (this.#identity = new FleetIdentity(sql, env));
    const config = () => identity.config();
    const clock = (this.#clock = new FleetClock(sql));
    const rows = (this.#rows = new AgentRows(sql));
    const log = (this.#log = new GlobalLog(sql));
    const presence = (this.#presence = new Presence(storage, rows));
    const field = (this.#field = new Field(sql, rows, clock, sockets, config));
    const standing = new Standing(storage, rows, clock);
    const checkpointEvents = new CheckpointEvents(storage, log);
    this.#checkpoints = new CheckpointCadence(storage, log, identity, sockets, checkpointEvents);
    const mesh = new MeshWatch(storage);
    const hooks = webhookSettings(env);
    // Deliveries run in the background (waitUntil): a hanging receiver never holds up the alarm; each
    // stored outcome re-plans it (a retry may be due before the lease the alarm was set for).
    const webhooks = (this.#webhooks = new WebhookService(storage, {
      ...hooks,
      background: (work) => ctx.waitUntil(work),
      onAttempt: () => this.#scheduler.reschedule(Date.now()),
    }));
    this.#views = new FleetViews({ rows, identity, clock, field, log });
    this.#logQueries = new LogQueries(log, sql, () => identity.origin);
    const signatures = new RecordVerifier();
    const exclusive = <T>(work: () => Promise<T>): Promise<T> => ctx.blockConcurrencyWhile(work);
    const agentLogs = new AgentLogs(storage);
    const agentCheckpoints = new AgentCheckpoints({ storage, rows, logs: agentLogs, log, standing, origin: () => identity.origin });
    this.#agentLogQueries = new AgentLogQueries(storage, agentLogs, () => identity.origin);
    this.#session = new AgentSession({ storage, rows, identity, presence, standing, field, log, agentLogs, agentCheckpoints, signatures, exclusive });
    const open = () => sockets.open();
    const history = (this.#history = new ViewerHistory(sql));
    const viewers = (this.#viewers = new ViewerFeed({ rows, views: this.#views, history, viewers: () => ctx.getWebSockets(VIEWER_TAG), agentsLive: open }));
    this.#scheduler = new DeadlineScheduler({ getAlarm: () => ctx.storage.getAlarm(), setAlarm: (at) => ctx.storage.setAlarm(at) }, [
      cadenceTask("agent-rows", FLUSH_INTERVAL_MS, () => rows.hasStaged() || clock.staged, () => this.#flush()),
      { name: "field", nextDueAt: (now) => field.nextBroadcastAt(now, open()), run: (now) => this.#broadcastField(mesh, now) },
      { name: "mesh-idle", nextDueAt: (now) => mesh.nextIdleCheckAt(open(), now), run: (now) => mesh.observe(null, 0, now) },
      { name: "offline", nextDueAt: (now) => presence.nextSweepAt(config().offlineAfterMs, open(), now), run: (now) => this.#sweepPresence(now) },
      cadenceTask("reconcile", SWEEP_INTERVAL_MS, open, () => void presence.reconcile(sockets.liveAgentIds())),
      cadenceTask("replaced-sockets", SWEEP_INTERVAL_MS, open, (now) => closeReplacedAfterGrace(sockets.all(), now)),
      cadenceTask("jti-expiry", SWEEP_INTERVAL_MS, open, (now) => pruneJti(sql, now)),
      cadenceTask("rate-limits", SWEEP_INTERVAL_MS, open, (now) => pruneRateLimits(sql, now)),
      cadenceTask("sessions", SWEEP_INTERVAL_MS, open, (now) => sessions.pruneSessions(sql, now)),
      { name: "checkpoint", nextDueAt: (now) => this.#checkpoints.nextDueAt(now), run: (now) => this.#checkpoints.run(now) },
      { name: "checkpoint-events", nextDueAt: () => checkpointEvents.nextDueAt(), run: (now) => checkpointEvents.run(now) },
      { name: "viewers", nextDueAt: (now) => viewers.nextDueAt(now), run: (now) => void viewers.flush(now) },
      // Last: when due, it also dispatches what the tasks before it wrote in this alarm (else the next alarm, 20 ms on, does).
      { name: "webhooks", nextDueAt: (now) => webhooks.nextDueAt(now), run: (now) => webhooks.run(now) },
    ]);
  }

  /** Opens the storage; `create` false keeps a fleet nobody created nonexistent. Returns whether the fleet exists. */
  #ready(scope?: FleetScope, create = true): boolean {
    const { exists, opened } = this.#identity.open(scope, create);
    if (!exists) return false;
    if (opened) {
      this.#rows.loadConnected();
      this.#presence.reconcile(this.#sockets.liveAgentIds());
      // Agents enrolled before keys were logged get their key entries once (key-history.ts); the
      // alarm then signs a checkpoint over them.
      if (backfillKeyHistory(this.#storage, this.#log, Date.now()) > 0) void this.#scheduler.reschedule(Date.now(), ["checkpoint"]);
    }
    this.#checkpoints.ensureInitial(Date.now());
    return true;
  }

  /** Public routes may only create the default fleet. */
  #readyPublic(scope: FleetScope): boolean {
    return this.#ready(scope, scope.fleetId === DEFAULT_FLEET_ID);
  }

  /** The field at its cadence, observed for mesh lock/unlock too (mesh-watch.ts). */
  #broadcastField(mesh: MeshWatch, now: number): void {
    const field = this.#field.broadcast(now);
    mesh.observe(field?.r ?? null, field?.n ?? 0, now);
    if (field !== null) this.#history.sample(now, field.r, field.psi);
  }

  /** After a change that may have written to the outbox: the alarm comes now to deliver it. */
  async #kick<T>(outcome: T): Promise<T> {
    await this.#scheduler.reschedule(Date.now());
    return outcome;
  }

  #sweepPresence(now: number): void {
    this.#presence.reconcile(this.#sockets.liveAgentIds());
    this.#presence.sweep(this.#identity.config().offlineAfterMs, now);
  }

  // ---- enrollment and registry (RPC from the Worker) -------------------------------------------

  async createEnrollmentToken(scope: FleetScope, spec: TokenSpec): Promise<Outcome<IssuedToken>> {
    this.#ready(scope);
    return success(registry.issueToken(this.#storage.sql, spec, Date.now()));
  }

  async listEnrollmentTokens(scope: FleetScope): Promise<Outcome<TokenView[]>> {
    this.#ready(scope);
    return success(registry.listTokens(this.#storage.sql));
  }

  async revokeEnrollmentToken(scope: FleetScope, id: string): Promise<Outcome<TokenView>> {
    this.#ready(scope);
    return registry.revokeToken(this.#storage.sql, id, Date.now());
  }

  async enroll(
    scope: FleetScope,
    request: { token: string; publicKeyX: string; name: string; hardware?: string | undefined },
    client: string,
  ): Promise<Outcome<Enrolled & { fleetId: string; audience: string }>> {
    if (!this.#readyPublic(scope)) return failure(401, "enrollment_token_unknown", "the enrollment token is not known to this fleet");
    const now = Date.now();
    const limited = enrollmentRateRefusal(this.#storage.sql, client, this.env.ENROLL_RATE_PER_MINUTE, now);
    if (limited !== null) return limited;
    const outcome = registry.enroll(this.#storage, this.#log, { ...request, publicKey: base64UrlToBytes(request.publicKeyX) }, now);
    return this.#kick(outcome.ok ? success({ ...outcome.value, fleetId: this.#identity.fleetId, audience: this.#identity.audience }) : outcome);
  }

  async listAgents(scope: FleetScope): Promise<Outcome<AgentView[]>> {
    this.#ready(scope);
    return success(this.#views.agents(Date.now()));
  }

  async getAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    return this.#views.agent(agentId, Date.now());
  }

  async approveAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    const outcome = registry.approveAgent(this.#storage, this.#rows, this.#log, agentId, this.#identity.fleetId, Date.now());
    return this.#kick(outcome.ok ? success(this.#views.ofRow(outcome.value, Date.now())) : outcome);
  }

  /** Revokes an agent and closes its sockets at once. */
  async revokeAgent(scope: FleetScope, agentId: string): Promise<Outcome<AgentView>> {
    this.#ready(scope);
    const now = Date.now();
    const outcome = registry.revokeAgent(this.#storage, this.#rows, this.#log, agentId, this.#identity.fleetId, now);
    if (!outcome.ok) return outcome;
    this.#sockets.closeAgent(agentId, 1008, "agent revoked");
    if (this.#field.membershipChanged(now)) await this.#scheduler.reschedule(now);
    return this.#kick(success(this.#views.ofRow(outcome.value, now)));
  }

  async fleetView(scope: FleetScope): Promise<Outcome<FleetView>> {
    this.#ready(scope);
    return success(this.#views.fleet(Date.now()));
  }

  async updateConfig(scope: FleetScope, patch: FleetConfigPatch): Promise<Outcome<FleetConfig>> {
    this.#ready(scope);
    const now = Date.now();
    const outcome = applyConfigPatch(this.#storage, this.#identity, patch, now);
    if (!outcome.ok) return outcome;
    const config = outcome.value;
    for (const ws of this.#sockets.helloed()) sendMessage(ws, { type: "config", config });
    await this.#scheduler.reschedule(now);
    return success(config);
  }

  /** What the Worker needs to verify an agent's connect JWT, or null for an unknown agent. */
  async agentCredential(scope: FleetScope, agentId: string): Promise<AgentCredential | null> {
    if (!this.#readyPublic(scope)) return null;
    const row = this.#rows.get(agentId);
    return row === undefined ? null : { publicKeyX: row.public_key_x, status: row.status, audience: this.#identity.audience };
  }

  // ---- webhooks (RPC from the Worker's admin routes; edge/webhooks) ------------------------------

  async createWebhookEndpoint(scope: FleetScope, input: EndpointCreate): Promise<Outcome<EndpointWithSecret>> {
    this.#ready(scope);
    return this.#kick(this.#webhooks.createEndpoint(input, Date.now()));
  }

  async listWebhookEndpoints(scope: FleetScope): Promise<Outcome<EndpointView[]>> {
    this.#ready(scope);
    return success(this.#webhooks.listEndpoints(Date.now()));
  }

  async getWebhookEndpoint(scope: FleetScope, id: string): Promise<Outcome<EndpointView>> {
    this.#ready(scope);
    return this.#webhooks.getEndpoint(id, Date.now());
  }

  async updateWebhookEndpoint(scope: FleetScope, id: string, patch: EndpointPatch): Promise<Outcome<EndpointView>> {
    this.#ready(scope);
    return this.#kick(this.#webhooks.updateEndpoint(id, patch, Date.now()));
  }

  async deleteWebhookEndpoint(scope: FleetScope, id: string): Promise<Outcome<{ deleted: string }>> {
    this.#ready(scope);
    return this.#webhooks.deleteEndpoint(id);
  }

  async rotateWebhookSecret(scope: FleetScope, id: string): Promise<Outcome<EndpointWithSecret & { previousValidUntil: string }>> {
    this.#ready(scope);
    return this.#webhooks.rotateSecret(id, Date.now());
  }

  async listWebhookAttempts(scope: FleetScope, id: string, before: number | null, limit: number): Promise<Outcome<Page<AttemptView>>> {
    this.#ready(scope);
    return this.#webhooks.listAttempts(id, before, limit);
  }

  async listWebhookMessages(scope: FleetScope, id: string, before: number | null, limit: number): Promise<Outcome<Page<MessageView & { seq: number }>>> {
    this.#ready(scope);
    return this.#webhooks.listMessages(id, before, limit);
  }

  async replayWebhookMessage(scope: FleetScope, id: string, messageId: string): Promise<Outcome<MessageView>> {
    this.#ready(scope);
    return this.#kick(this.#webhooks.replayMessage(id, messageId, Date.now()));
  }

  async replayWebhookSince(scope: FleetScope, id: string, since: number): Promise<Outcome<{ replayed: number; limit: number }>> {
    this.#ready(scope);
    return this.#kick(this.#webhooks.replaySince(id, since, Date.now()));
  }

  async sendWebhookTest(scope: FleetScope, id: string): Promise<Outcome<MessageView>> {
    this.#ready(scope);
    return this.#kick(this.#webhooks.sendTest(id, Date.now()));
  }

  // ---- operator sessions (RPC from the Worker: edge/http/session-auth.ts, routes/session.ts) ----

  /**
   * Judges a sign-in against the failed sign-in limit (called on the default fleet's object, which
   * counts for the whole deployment: session-store.ts `judgeSignIn`).
   */
  async judgeSignIn(scope: FleetScope, attempt: { tokenOk: boolean; client: string }): Promise<Outcome<true>> {
    this.#ready(scope);
    return sessions.judgeSignIn(this.#storage.sql, attempt, Date.now());
  }

  /** Opens a session after a judged sign-in; only the new session's hash reaches the object. */
  async openSession(scope: FleetScope, idHash: string): Promise<Outcome<{ expiresAt: number }>> {
    this.#ready(scope);
    if (!sessions.SESSION_HASH.test(idHash)) return failure(400, "bad_internal_request", "session hash malformed");
    const opened = sessions.openSession(this.#storage, idHash, Date.now());
    for (const ended of opened.ended) this.#viewers.closeSession(ended);
    return success({ expiresAt: opened.session.expiresAt });
  }

  /** The live session of this hash, or null (never creates a fleet). */
  async checkSession(scope: FleetScope, idHash: string): Promise<sessions.LiveSession | null> {
    if (!this.#ready(scope, false) || !sessions.SESSION_HASH.test(idHash)) return null;
    return sessions.checkSession(this.#storage.sql, idHash, Date.now());
  }

  /** Sign-out: revokes the session and closes its live sockets. True when it was live. */
  async endSession(scope: FleetScope, idHash: string): Promise<boolean> {
    if (!this.#ready(scope, false) || !sessions.SESSION_HASH.test(idHash)) return false;
    const ended = sessions.revokeSession(this.#storage.sql, idHash, Date.now());
    this.#viewers.closeSession(idHash);
    return ended;
  }

  /** Revokes every session of the fleet and closes every viewer socket. */
  async endAllSessions(scope: FleetScope): Promise<Outcome<{ revoked: number }>> {
    this.#ready(scope);
    const ended = sessions.revokeAllSessions(this.#storage.sql, Date.now());
    this.#viewers.closeSession(null);
    return success({ revoked: ended.length });
  }

  /** An agent's records, newest first (the dashboard's agent detail). */
  async agentRecords(scope: FleetScope, agentId: string, before: number | null, limit: number): Promise<Outcome<AgentRecordsPage>> {
    this.#ready(scope);
    if (this.#rows.get(agentId) === undefined) return failure(404, "agent_not_found", `no agent ${agentId.slice(0, 64)} in this fleet`);
    return success(agentRecords(this.#storage.sql, agentId, before, limit));
  }

  // ---- the global log (RPC from the Worker's public routes) ------------------------------------

  /** A signed checkpoint with agents' cosignatures (published-checkpoint.ts). */
  async checkpoint(scope: FleetScope, query: CheckpointQuery = {}): Promise<Outcome<PublishedCheckpoint>> {
    return this.#readyPublic(scope) ? this.#logQueries.checkpoint(query) : this.#noFleet(scope);
  }

  /** An agent's key history in the global log (key-history.ts). */
  async agentKeys(scope: FleetScope, agentId: string): Promise<Outcome<AgentKeysJson>> {
    return this.#readyPublic(scope) ? this.#logQueries.agentKeys(agentId) : this.#noFleet(scope);
  }

  async inclusionProof(scope: FleetScope, query: { index?: number; agentId?: string; seq?: number; size?: number }): Promise<Outcome<InclusionProofJson & { agentId: string; seq: number }>> {
    return this.#readyPublic(scope) ? this.#logQueries.inclusionProof(query) : this.#noFleet(scope);
  }

  async inclusionProofs(scope: FleetScope, query: { indices: readonly number[]; size?: number }): Promise<Outcome<InclusionProofBatchJson>> {
    return this.#readyPublic(scope) ? this.#logQueries.inclusionProofs(query) : this.#noFleet(scope);
  }

  async consistencyProof(scope: FleetScope, query: { from: number; to?: number }): Promise<Outcome<ConsistencyProofJson>> {
    return this.#readyPublic(scope) ? this.#logQueries.consistencyProof(query) : this.#noFleet(scope);
  }

  async entries(scope: FleetScope, start: number, end: number): Promise<Outcome<{ start: number; end: number; size: number; entries: EntryJson[] }>> {
    return this.#readyPublic(scope) ? this.#logQueries.entries(start, end) : this.#noFleet(scope);
  }

  // ---- agents' own logs (RPC from the Worker's public routes under /v1/log/agents/:agentId) ------

  async agentCheckpoint(scope: FleetScope, agentId: string, query: AgentCheckpointQuery = {}): Promise<Outcome<AgentCheckpointJson>> {
    return this.#readyPublic(scope) ? this.#agentLogQueries.checkpoint(agentId, query) : this.#noFleet(scope);
  }

  async agentInclusionProof(scope: FleetScope, query: { agentId: string; seq: number; size?: number }): Promise<Outcome<InclusionProofDocument>> {
    return this.#readyPublic(scope) ? this.#agentLogQueries.inclusionProof(query) : this.#noFleet(scope);
  }

  async agentConsistencyProof(scope: FleetScope, query: { agentId: string; from: number; to?: number }): Promise<Outcome<ConsistencyProofDocument>> {
    return this.#readyPublic(scope) ? this.#agentLogQueries.consistencyProof(query) : this.#noFleet(scope);
  }

  #noFleet(scope: FleetScope): Outcome<never> {
    return failure(404, "fleet_not_found", `no fleet ${scope.fleetId}`);
  }

  // ---- sockets ---------------------------------------------------------------------------------

  /** Accepts an upgrade the Worker has already authenticated (see CONNECT_HEADERS). */
  override async fetch(request: Request): Promise<Response> {
    const viewer = readViewerRequest(request.headers);
    if (viewer !== null) return this.#acceptViewer(viewer);
    const upgrade = readConnectRequest(request.headers);
    if (upgrade === null) return refusal(failure(400, "bad_internal_request", "the Fleet object only accepts authenticated upgrades from the Worker"));
    const { agentId, jti, jtiExpiresAt, scope } = upgrade;
    this.#ready(scope);
    const now = Date.now();
    const admitted = registry.admitConnection(this.#storage.sql, this.#rows, agentId, jti, jtiExpiresAt, now);
    if (!admitted.ok) return refusal(admitted);
    const client = this.#sockets.accept(agentId, this.#identity.nextSocketGeneration(), now);
    this.#presence.connected(admitted.value, now);
    await this.#scheduler.reschedule(now);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    if (readViewer(ws) !== undefined) return this.#viewers.receive(ws, frame, Date.now());
    const state = readConnection(ws);
    if (state === undefined) return closeQuietly(ws, 1011, "connection state lost");
    // A replaced socket is never served: closed from its own handler, the one place workerd ends the connection cleanly.
    if (!this.#sockets.isCurrent(ws, state)) return closeReplaced(ws);
    const now = Date.now();
    try {
      this.#ready();
      const replan = await this.#session.receive(ws, state, frame, now);
      if (replan !== null) await this.#scheduler.reschedule(now, replan === "all" ? undefined : replan);
    } catch (err) {
      this.#session.failed(ws, state, err);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.#closed(ws, code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#closed(ws, 1011, "socket error");
  }

  /** Replaced sockets closing change nothing; the current one closing disconnects the agent (presence.ts: offline comes later). */
  async #closed(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (readViewer(ws) !== undefined) return this.#viewerClosed(ws, code, reason);
    try {
      this.#ready();
      this.#sockets.closed();
      const state = readConnection(ws);
      closeQuietly(ws, code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason.slice(0, 120));
      if (state === undefined || state.replacedAt != null || this.#sockets.hasCurrent(state.agentId, ws)) return;
      const now = Date.now();
      this.#presence.disconnected(state.agentId, now);
      this.#field.membershipChanged(now);
      await this.#scheduler.reschedule(now);
    } catch (err) {
      console.error("fleet: close handling failed", err);
    }
  }

  /** Staged agent columns and the fleet clock reach SQLite together. */
  #flush(): void {
    this.#storage.transaction(() => {
      this.#rows.flush();
      this.#clock.flush();
    });
  }

  // ---- viewers (dashboard live channel) -----------------------------------------------------------

  /** A viewer upgrade the Worker authorised (session and Origin; viewer-request.ts): at most MAX_VIEWERS per fleet. */
  async #acceptViewer(request: ViewerRequest): Promise<Response> {
    this.#ready(request.scope);
    if (!this.#viewers.hasRoom()) return refusal(failure(429, "viewers_full", "this fleet already has the most dashboard viewers open (16); close one"));
    const now = Date.now();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [VIEWER_TAG]);
    this.#viewers.opened(server, { kind: "viewer", sessionHash: request.sessionHash, expiresAt: request.expiresAt, openedAt: now });
    await this.#scheduler.reschedule(now, ["viewers"]);
    return new Response(null, { status: 101, webSocket: client });
  }

  #viewerClosed(ws: WebSocket, code: number, reason: string): void {
    this.#viewers.closed();
    closeViewer(ws, code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason.slice(0, 120));
  }

  // ---- the alarm -------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.#ready();
    await this.#scheduler.onAlarm(Date.now());
  }
}
