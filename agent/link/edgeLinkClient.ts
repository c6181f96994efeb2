import type { EdgeLink, LinkContext, LinkState } from "../runtime/edgeLink.js";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
import { loadEdgeIdentity, relocatedIdentity, saveEdgeIdentity, type EdgeIdentity } from "./edgeIdentity.js";
import { EdgeHttpError } from "./edgeHttp.js";
import { enrollWithEdge } from "./enrollment.js";
import { assertEdgeTransport, assertNoDowngrade } from "./edgeTransport.js";
import { LogAuditor } from "./logAuditor.js";
import { EdgeSession, newProofChainState, type SessionCounters } from "./edgeSession.js";

export interface EdgeLinkOptions {
  /** Edge URL for the first enrollment (else the runtime's config.edge.url). */
  readonly edgeUrl?: string | undefined;
  /** Enrollment token for the first start (else the runtime's config.edge.enrollToken). */
  readonly enrollToken?: string | undefined;
  readonly backoff?: BackoffPolicy;
  /** How long stop() waits for the edge to acknowledge the last durable records, ms (default 2000). */
  readonly drainMs?: number;
  /** Log audit round interval, ms (default 2000). */
  readonly auditIntervalMs?: number;
  /** Ping the edge this often, ms (default 15 000)… */
  readonly pingIntervalMs?: number;
  /** …and drop a connection silent for this long, ms (default 40 000). */
  readonly silenceLimitMs?: number;
  /** Unsent bytes on the socket above which summaries are skipped (default 256 KiB; see SessionOptions). */
  readonly sendBufferLimitBytes?: number;
}

/** Refusals after which retrying the same way cannot help; the link waits at the backoff cap. */
const PERMANENT_REFUSALS = new Set(["agent_unknown", "agent_revoked", "jwt_signature_invalid", "jwt_audience_mismatch"]);

/**
 * The agent's link to the edge (issue 5): enrolls on first start, then keeps one WebSocket session
 * up with capped, jittered exponential backoff between attempts. Never blocks the runtime: start()
 * returns at once and a failing edge only changes state() and stats().
 */
export class EdgeLinkClient implements EdgeLink {
  readonly #options: EdgeLinkOptions;
  #context: LinkContext | undefined;
  #state: LinkState = "disabled";
  #identity: EdgeIdentity | undefined;
  #auditor: LogAuditor | undefined;
  #session: EdgeSession | undefined;
  #stopped = false;
  #attempt = 0;
  #wake: (() => void) | undefined;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #counters: SessionCounters = {
    connects: 0,
    welcomes: 0,
    recordsSent: 0,
    batchesSent: 0,
    acks: 0,
    summariesSent: 0,
    summariesSkipped: 0,
    fieldsReceived: 0,
    invalidMessages: 0,
    edgeErrors: 0,
    rateLimited: 0,
    replayRewinds: 0,
    lastError: null,
    sendingHalted: null,
    quarantined: false,
    agentCheckpointsSent: 0,
    agentCheckpointErrors: 0,
    agentLogInconsistent: false,
    cosignaturesSent: 0,
    cosignatureErrors: 0,
  };
  /** Agent checkpoint pacing and what was cosigned, across this link's sessions. */
  readonly #proofChain = newProofChainState();

  constructor(options: EdgeLinkOptions = {}) {
    this.#options = options;
  }

  state(): LinkState {
    return this.#state;
  }

  get identity(): EdgeIdentity | undefined {
    return this.#identity;
  }

  start(context: LinkContext): void {
    if (this.#context) throw new Error("the edge link was already started");
    this.#context = context;
    this.#loop = this.#run().catch((err: unknown) => {
      this.#state = "closed";
      context.log("error", "edge link failed", { error: (err as Error).message });
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#wake?.();
    this.#auditor?.stop();
    const session = this.#session;
    if (session) {
      const wasConnected = session.welcomed;
      await session.close(1001, "agent shutting down", this.#options.drainMs ?? 2000);
      if (wasConnected && this.#context) {
        const ledger = this.#context.ledger;
        const left = ledger.durableCount - session.window.ackedNext;
        this.#context.log(left > 0 ? "warn" : "info", "closed the edge connection (1001 going away)", { acknowledged: session.window.ackedNext, durable: ledger.durableCount, unacknowledged: Math.max(0, left) });
      }
    }
    await this.#loop;
    this.#state = "closed";
  }

  stats(): Record<string, number | string | boolean | null> {
    const c = this.#counters;
    const a = this.#auditor?.stats();
    const w = this.#session?.window;
    return {
      enrolled: this.#identity !== undefined,
      connects: c.connects,
      sessions: c.welcomes,
      reconnect_attempt: this.#attempt,
      records_sent: c.recordsSent,
      batches_sent: c.batchesSent,
      acked_next_seq: w?.ackedNext ?? this.#context?.ledger.ackedCount ?? 0,
      in_flight: w?.inFlight ?? 0,
      summaries_sent: c.summariesSent,
      summaries_skipped: c.summariesSkipped,
      fields_received: c.fieldsReceived,
      invalid_messages: c.invalidMessages,
      edge_errors: c.edgeErrors,
      rate_limited: c.rateLimited,
      replay_rewinds: c.replayRewinds,
      quarantined: c.quarantined ? 1 : 0,
      sending_halted: c.sendingHalted === null ? 0 : 1,
      checkpoint_size: a?.checkpointSize ?? 0,
      checkpoints_accepted: a?.checkpointsAccepted ?? 0,
      checkpoints_rejected: a?.checkpointsRejected ?? 0,
      log_inconsistent: a?.inconsistent ? 1 : 0,
      inclusion_verified: a?.inclusionVerified ?? 0,
      inclusion_failed: a?.inclusionFailed ?? 0,
      inclusion_pending: a?.inclusionPending ?? 0,
      inclusion_skipped: a?.inclusionSkipped ?? 0,
      agent_checkpoints_sent: c.agentCheckpointsSent,
      agent_checkpoint_size: this.#proofChain.schedule.lastSent?.size ?? 0,
      agent_checkpoint_errors: c.agentCheckpointErrors,
      agent_log_inconsistent: c.agentLogInconsistent ? 1 : 0,
      cosignatures_sent: c.cosignaturesSent,
      cosigned_size: this.#proofChain.cosignedSize,
      cosignature_errors: c.cosignatureErrors,
      last_error: c.lastError,
      halted_reason: c.sendingHalted,
      inconsistent_reason: a?.inconsistentReason ?? null,
    };
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  #backoff(): number {
    return backoffDelayMs(this.#attempt++, this.#options.backoff ?? DEFAULT_BACKOFF);
  }

  async #run(): Promise<void> {
    const ctx = this.#context!;
    let identity: EdgeIdentity | undefined;
    try {
      identity = loadEdgeIdentity(ctx.dataDir);
    } catch (err) {
      this.#state = "closed";
      ctx.log("error", "edge identity unusable; the link stays down", { error: (err as Error).message });
      return;
    }
    identity ??= await this.#enroll();
    if (!identity) return;
    if (identity.agentId !== ctx.agentId) {
      this.#state = "closed";
      ctx.log("error", "the stored edge identity belongs to another device key; the link stays down", { identity: identity.agentId, agentId: ctx.agentId });
      return;
    }
    this.#identity = identity;
    const wanted = this.#options.edgeUrl ?? ctx.edgeUrl;
    if (wanted !== undefined && new URL(wanted).host !== new URL(identity.edgeUrl).host) {
      // The explicit address wins: the edge moved (new host or port), the enrollment stays.
      const moved = relocatedIdentity(this.#identity, wanted);
      ctx.log("warn", "the edge address changed since enrollment; using the given one", { stored: identity.edgeUrl, given: moved.edgeUrl });
      this.#updateIdentity({ edgeUrl: moved.edgeUrl, connectUrl: moved.connectUrl });
    }
    try {
      // The stored identity is re-checked: it may predate the policy, or have been edited by hand.
      assertEdgeTransport(this.#identity.edgeUrl, ctx.allowPlaintextEdge);
      assertEdgeTransport(this.#identity.connectUrl, ctx.allowPlaintextEdge);
      assertNoDowngrade(this.#identity.edgeUrl, this.#identity.connectUrl);
    } catch (err) {
      this.#state = "closed";
      this.#counters.lastError = (err as Error).message;
      ctx.log("error", "the edge address is not safe to use; the link stays down", { code: "plaintext_edge_refused", error: (err as Error).message });
      return;
    }
    const auditor = new LogAuditor({
      dataDir: ctx.dataDir,
      edgeUrl: identity.edgeUrl,
      verifierKey: () => this.#identity?.verifierKey ?? null,
      origin: () => this.#identity?.origin ?? null,
      pinOrigin: (origin) => this.#updateIdentity({ origin }),
      leafHash: (seq) => ctx.ledger.leafHash(seq),
      log: ctx.log,
      onInconsistent: (report) => this.#session?.reportLog(report),
      onKept: (kept) => this.#session?.cosign(kept),
      ...(this.#options.auditIntervalMs === undefined ? {} : { roundIntervalMs: this.#options.auditIntervalMs }),
    });
    this.#auditor = auditor;
    if (!this.#stopped) auditor.start();

    while (!this.#stopped) {
      this.#state = "connecting";
      const session = new EdgeSession({
        context: ctx,
        identity: this.#identity!,
        auditor,
        counters: this.#counters,
        proofChain: this.#proofChain,
        pinVerifierKey: (key) => this.#updateIdentity({ verifierKey: key }),
        ...(this.#options.pingIntervalMs === undefined ? {} : { pingIntervalMs: this.#options.pingIntervalMs }),
        ...(this.#options.silenceLimitMs === undefined ? {} : { silenceLimitMs: this.#options.silenceLimitMs }),
        ...(this.#options.sendBufferLimitBytes === undefined ? {} : { sendBufferLimitBytes: this.#options.sendBufferLimitBytes }),
        onWelcome: () => {
          this.#attempt = 0;
          this.#state = "connected";
          // Enrolled with an approval token: the edge only welcomes an active agent.
          if (this.#identity?.status === "pending") this.#updateIdentity({ status: "active" });
        },
      });
      this.#session = session;
      const end = await session.run();
      if (this.#stopped) break;
      let delay = this.#backoff();
      if (end.refused) {
        this.#counters.lastError = `${end.refused.code}: ${end.refused.message}`;
        const permanent = PERMANENT_REFUSALS.has(end.refused.code);
        if (permanent) delay = (this.#options.backoff ?? DEFAULT_BACKOFF).capMs;
        ctx.log(permanent ? "error" : "warn", "the edge refused the connection", { status: end.refused.status, code: end.refused.code, error: end.refused.message, retryInMs: delay });
      } else {
        ctx.log(end.welcomed ? "warn" : "info", end.welcomed ? "edge connection lost; reconnecting" : "cannot connect to the edge; retrying", { reason: end.reason, code: end.closeCode, retryInMs: delay });
      }
      this.#state = "backoff";
      await this.#sleep(delay);
    }
    this.#state = "closed";
  }

  #updateIdentity(patch: Partial<Pick<EdgeIdentity, "verifierKey" | "origin" | "status" | "edgeUrl" | "connectUrl">>): void {
    const ctx = this.#context!;
    if (!this.#identity) return;
    this.#identity = { ...this.#identity, ...patch };
    try {
      saveEdgeIdentity(ctx.dataDir, this.#identity);
    } catch (err) {
      ctx.log("error", "cannot save the edge identity", { error: (err as Error).message });
    }
  }

  /** First start: enroll with the edge, retrying while it is unreachable. Undefined when it cannot. */
  async #enroll(): Promise<EdgeIdentity | undefined> {
    const ctx = this.#context!;
    const edgeUrl = this.#options.edgeUrl ?? ctx.edgeUrl;
    const token = this.#options.enrollToken ?? ctx.enrollToken;
    if (edgeUrl === undefined || token === undefined) {
      this.#state = "closed";
      ctx.log("error", "not enrolled with an edge: give --edge URL and --token T (or run `becomingone-agent enroll`)", { edge: edgeUrl ?? null, token: token === undefined ? "missing" : "given" });
      return undefined;
    }
    while (!this.#stopped) {
      this.#state = "enrolling";
      try {
        const identity = await enrollWithEdge({ edgeUrl, token, key: ctx.key, agentId: ctx.agentId, signal: this.#abort.signal, allowPlaintext: ctx.allowPlaintextEdge, ...(ctx.deviceName === undefined ? {} : { name: ctx.deviceName }) });
        saveEdgeIdentity(ctx.dataDir, identity);
        this.#attempt = 0;
        ctx.log("info", "enrolled with the edge", { agentId: identity.agentId, fleetId: identity.fleetId, status: identity.status, verifierKey: identity.verifierKey });
        return identity;
      } catch (err) {
        if (this.#stopped) return undefined;
        const transient = err instanceof EdgeHttpError ? err.transient : false;
        if (!transient) {
          this.#state = "closed";
          this.#counters.lastError = (err as Error).message;
          ctx.log("error", "enrollment refused; the link stays down (fix the token and restart)", { code: (err as { code?: string }).code, error: (err as Error).message });
          return undefined;
        }
        const delay = this.#backoff();
        ctx.log("warn", "cannot enroll yet; retrying", { error: (err as Error).message, retryInMs: delay });
        this.#state = "backoff";
        await this.#sleep(delay);
      }
    }
    return undefined;
  }
}
