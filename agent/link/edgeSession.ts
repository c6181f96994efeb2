import WebSocket from "ws";
import { decodeEdgeMessage } from "../../shared/protocol/decode.js";
import { LIMITS, PROTOCOL_VERSION } from "../../shared/protocol/limits.js";
import type { EdgeMessage } from "../../shared/protocol/messages.js";
import { recordToWire, type WireRecord } from "../../shared/protocol/record.js";
import type { FleetConfig } from "../../shared/protocol/config.js";
import type { LinkContext, PhaseSummary } from "../runtime/edgeLink.js";
import type { SealedRecord } from "../ledger/record.js";
import { agentLogOrigin } from "../../shared/checkpoint/agent-log-names.js";
import { AgentCheckpointSchedule, signAgentCheckpoint } from "./agentCheckpoints.js";
import { cosignKept, type KeptCheckpoint } from "./agentCosigner.js";
import { connectJwt } from "./connectToken.js";
import type { EdgeIdentity } from "./edgeIdentity.js";
import type { LogAuditReport, LogAuditor } from "./logAuditor.js";
import { MessageBudget } from "./messageBudget.js";
import { ReplayWindow } from "./replayWindow.js";
import { summaryDue } from "./summaryPacing.js";

export const AGENT_SOFTWARE = "becomingone-agent/0.1.0";
/** 2^52: a clock ticking a million times a second takes 142 years to get here. */
const LAMPORT_CEILING = 2 ** 52;
/** Default for SessionOptions.sendBufferLimitBytes: a few seconds of a full replay window. */
const SEND_BUFFER_LIMIT_BYTES = 256 * 1024;
/** Default for SessionOptions.replayStallMs. An honest edge acks a full window in well under a second. */
const REPLAY_STALL_MS = 5000;
/** After a `rate_limited` without ref, how long the acks of what was sent before it may still take. */
const RATE_LIMITED_GRACE_MS = 1000;
/** How often the replay watchdog looks at the window. */
const REPLAY_WATCH_INTERVAL_MS = 250;
/** Tokens records leave in the budget for a summary or ping (see MessageBudget). */
const RECORDS_RESERVE = 1;
/** How long a proof-chain message waits when the socket is congested before it tries again. */
const CONGESTED_RETRY_MS = 1000;
/** The features of `welcome` this agent uses (docs/protocol.md): without them it sends neither message. */
export const FEATURE_AGENT_CHECKPOINT = "agent-checkpoint";
export const FEATURE_COSIGNATURE = "cosignature";

/** What the agent-log features keep between the connections of one link. */
export interface ProofChainState {
  /** Pacing of agent checkpoints (it holds across reconnects: the edge accepts one per 5 s). */
  readonly schedule: AgentCheckpointSchedule;
  /** The largest global checkpoint size cosigned by this process (a size is cosigned once). */
  cosignedSize: number;
}

export function newProofChainState(): ProofChainState {
  return { schedule: new AgentCheckpointSchedule(), cosignedSize: 0 };
}

/** Counters shared by all sessions of one link. */
export interface SessionCounters {
  connects: number;
  welcomes: number;
  recordsSent: number;
  batchesSent: number;
  acks: number;
  summariesSent: number;
  /** Summaries not sent because the socket was congested (the edge not reading). */
  summariesSkipped: number;
  fieldsReceived: number;
  invalidMessages: number;
  edgeErrors: number;
  /** `rate_limited` for the connection's message rate (not a summary's): a message the edge dropped. */
  rateLimited: number;
  /** Times the replay window was rewound to the last ack and resent (lost batches). */
  replayRewinds: number;
  lastError: string | null;
  /** Why sending records stopped for good (seq_conflict, pruned records…), null while healthy. */
  sendingHalted: string | null;
  quarantined: boolean;
  /** `agent_checkpoint` messages sent. */
  agentCheckpointsSent: number;
  /** Agent checkpoints the edge refused (`bad_checkpoint`, `agent_log_inconsistent`). */
  agentCheckpointErrors: number;
  /** The edge said its records of this agent do not match the agent's checkpoint (sticky). */
  agentLogInconsistent: boolean;
  /** `cosignature` messages sent. */
  cosignaturesSent: number;
  /** Cosignatures the edge refused (`unknown_checkpoint`, `bad_cosignature`). */
  cosignatureErrors: number;
}

export interface SessionOptions {
  readonly context: LinkContext;
  readonly identity: EdgeIdentity;
  readonly auditor: LogAuditor;
  readonly counters: SessionCounters;
  /** The pinned key changed hands, or got pinned: the client persists the identity. */
  pinVerifierKey(key: string): void;
  /** Called once, when `welcome` arrives (the client resets its backoff). */
  onWelcome(): void;
  /** Ping the edge this often, ms (default 15 000)… */
  readonly pingIntervalMs?: number;
  /** …and give the socket up after this long without any message, ms (default 40 000). */
  readonly silenceLimitMs?: number;
  /**
   * Bytes queued unsent on the socket above which summaries and pings are skipped; congestion that
   * lasts silenceLimitMs drops the connection (default 256 KiB). An edge that keeps talking but
   * stops reading would otherwise grow the agent's memory by every summary it sends.
   */
  readonly sendBufferLimitBytes?: number;
  readonly batchMax?: number;
  readonly maxInFlight?: number;
  /**
   * Records in flight and no ack advanced for this long, ms (default 5000), while the socket is
   * open and not congested: the batches were lost (dropped by the edge); resend from the last ack.
   */
  readonly replayStallMs?: number;
  /** Agent checkpoint pacing and cosigning state shared by the link's sessions (default: this session's own). */
  readonly proofChain?: ProofChainState;
}

/** How a session ended. */
export interface SessionEnd {
  /** The edge refused the upgrade with this HTTP status and code. */
  readonly refused?: { status: number; code: string; message: string };
  readonly closeCode?: number;
  readonly reason: string;
  /** True when the session got as far as `welcome`. */
  readonly welcomed: boolean;
}

/**
 * One WebSocket connection to the edge, from upgrade to close: hello → welcome (resume point) →
 * replay of unacknowledged durable records in order, in batches, paced by acks → live records,
 * summaries at the fleet's rate, field and config to the runtime, checkpoints to the auditor.
 * Everything runs on socket events and timers; nothing here is called from a tick.
 */
export class EdgeSession {
  readonly #o: SessionOptions;
  readonly #window: ReplayWindow;
  #ws: WebSocket | undefined;
  #welcomed = false;
  #pumping = false;
  #closed = false;
  #summaryHz = 2;
  #lastSummaryAt: number | undefined;
  #queuedSummary: PhaseSummary | undefined;
  #lastHeardAt = Date.now();
  #congestedSince: number | undefined;
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void)[] = [];
  #ended: Promise<SessionEnd>;
  #end: (end: SessionEnd) => void = () => {};
  #ackWaiters = new Set<() => void>();
  /** Paces every message this session sends below the edge's per-connection rate. */
  readonly #budget = new MessageBudget();
  #pumpTimer: NodeJS.Timeout | undefined;
  /** When the window last made progress (an ack advanced, or sending started from empty, or a rewind). */
  #ackProgressAt = Date.now();
  /** A `rate_limited` without ref came: records below `below` not acked by `at` were dropped. */
  #lossSuspect: { at: number; below: number } | undefined;
  /** This connection has told the edge about the log inconsistency already. */
  #logReported = false;
  readonly #proofChain: ProofChainState;
  /** `welcome.features`: what this edge accepts beyond protocol 1's first messages. */
  #features: ReadonlySet<string> = new Set();
  /** The agent log's origin (and key name) while agent checkpoints go to this edge; undefined: none. */
  #agentLogOrigin: string | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #checkpointDueAt = 0;
  /** The newest kept global checkpoint waiting to be cosigned (for a token of the budget). */
  #cosignQueued: KeptCheckpoint | undefined;
  #cosignTimer: NodeJS.Timeout | undefined;
  /** The edge refused a cosignature as invalid (a strike): none more on this connection. */
  #cosignHalted = false;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#window = new ReplayWindow(options.batchMax ?? LIMITS.batchRecords, options.maxInFlight ?? 4 * LIMITS.batchRecords);
    this.#ended = new Promise((resolve) => (this.#end = resolve));
    this.#proofChain = options.proofChain ?? newProofChainState();
  }

  get welcomed(): boolean {
    return this.#welcomed;
  }
  get ended(): Promise<SessionEnd> {
    return this.#ended;
  }
  get window(): ReplayWindow {
    return this.#window;
  }

  /** Opens the socket; resolves with how the session ended. Never throws. */
  async run(): Promise<SessionEnd> {
    const { context, identity } = this.#o;
    let jwt: string;
    try {
      jwt = await connectJwt(context.key, identity.agentId, identity.audience);
    } catch (err) {
      this.#finish({ reason: `cannot sign the connect token: ${(err as Error).message}`, welcomed: false });
      return this.#ended;
    }
    if (this.#closed) return this.#ended;
    const ws = new WebSocket(identity.connectUrl, {
      headers: { Authorization: `Bearer ${jwt}` },
      handshakeTimeout: 10_000,
      maxPayload: LIMITS.messageBytes * 2,
      perMessageDeflate: false,
    });
    this.#ws = ws;
    this.#o.counters.connects++;
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on("end", () => {
        let code = `http_${res.statusCode ?? 0}`;
        let message = `the edge refused the connection with HTTP ${res.statusCode ?? 0}`;
        try {
          const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
          if (typeof parsed.error?.code === "string") code = parsed.error.code;
          if (typeof parsed.error?.message === "string") message = parsed.error.message;
        } catch {
          // keep the status
        }
        this.#finish({ refused: { status: res.statusCode ?? 0, code, message }, reason: `${code}: ${message}`, welcomed: false });
        ws.terminate();
      });
    });
    ws.on("open", () => this.#onOpen());
    ws.on("message", (data, isBinary) => this.#onMessage(isBinary ? new Uint8Array() : data.toString()));
    ws.on("close", (code, reason) => this.#finish({ closeCode: code, reason: reason.toString() || `closed (${code})`, welcomed: this.#welcomed }));
    ws.on("error", (err) => {
      this.#o.context.log("debug", "edge socket error", { error: err.message });
      // "close" follows an error once the socket existed; before that, end here.
      if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CONNECTING) this.#finish({ reason: err.message, welcomed: this.#welcomed });
    });
    return this.#ended;
  }

  /**
   * Ends the session. With `drainMs`, first sends what is durable and waits (at most that long)
   * for the edge to acknowledge it; then closes with `code` (1001 on shutdown).
   */
  async close(code = 1000, reason = "closing", drainMs = 0): Promise<void> {
    const ws = this.#ws;
    if (drainMs > 0 && this.#welcomed && ws?.readyState === WebSocket.OPEN) {
      const deadline = Date.now() + drainMs;
      await this.#pump();
      while (this.#window.ackedNext < this.#o.context.ledger.durableCount && Date.now() < deadline && !this.#closed) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          this.#ackWaiters.add(() => {
            clearTimeout(t);
            resolve();
          });
        });
        await this.#pump();
      }
    }
    this.#closed = true;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      else ws.terminate();
      const done = await Promise.race([this.#ended.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 1000))]);
      if (!done) ws.terminate();
    }
    this.#finish({ closeCode: code, reason, welcomed: this.#welcomed });
  }

  #finish(end: SessionEnd): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = undefined;
    clearTimeout(this.#cosignTimer);
    this.#cosignTimer = undefined;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#closed = true;
    for (const w of this.#ackWaiters) w();
    this.#ackWaiters.clear();
    this.#end(end);
  }

  #send(message: Record<string, unknown>): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...message }));
      return true;
    } catch (err) {
      this.#o.context.log("debug", "edge send failed", { error: (err as Error).message });
      return false;
    }
  }

  #onOpen(): void {
    const { context } = this.#o;
    this.#lastHeardAt = Date.now();
    const durable = context.ledger.durableCount;
    this.#budget.tryTake(Date.now()); // the bucket starts full: the hello always has its token
    this.#send({
      type: "hello",
      agentId: this.#o.identity.agentId,
      lamport: context.lamport.tick(),
      software: AGENT_SOFTWARE,
      agentLog: { size: durable, root: Buffer.from(context.ledger.root(durable)).toString("base64") },
    });
    const pingEvery = this.#o.pingIntervalMs ?? 15_000;
    const silence = this.#o.silenceLimitMs ?? 40_000;
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - this.#lastHeardAt > silence) {
        context.log("warn", "edge silent; dropping the connection", { silentMs: now - this.#lastHeardAt });
        this.#ws?.terminate();
        return;
      }
      if (this.#congested()) {
        this.#congestedSince ??= now;
        if (now - this.#congestedSince > silence) {
          context.log("warn", "the edge is not reading; dropping the connection", { unsentBytes: this.#ws?.bufferedAmount ?? 0, congestedMs: now - this.#congestedSince });
          this.#ws?.terminate();
        }
        return;
      }
      this.#congestedSince = undefined;
      // No token: the messages using them keep the edge hearing from us anyway; ping next round.
      if (this.#budget.tryTake(now)) this.#send({ type: "ping", nonce: now.toString(36) });
    }, pingEvery);
    timer.unref();
    this.#timers.push(timer);
  }

  #onMessage(frame: string | Uint8Array): void {
    this.#lastHeardAt = Date.now();
    const decoded = decodeEdgeMessage(frame);
    if (!decoded.ok) {
      this.#o.counters.invalidMessages++;
      this.#o.context.log("warn", "ignoring an invalid message from the edge", { code: decoded.code, error: decoded.message });
      return;
    }
    try {
      this.#handle(decoded.message);
    } catch (err) {
      // Nothing the edge sends may crash the agent.
      this.#o.counters.invalidMessages++;
      this.#o.context.log("error", "failed to handle an edge message", { type: decoded.message.type, error: (err as Error).message });
    }
  }

  #handle(message: EdgeMessage): void {
    const { context, counters } = this.#o;
    // The protocol starts with welcome; anything else before it has no session to apply to.
    if (!this.#welcomed && message.type !== "welcome" && message.type !== "error") {
      context.log("debug", "ignoring an edge message before welcome", { type: message.type });
      return;
    }
    switch (message.type) {
      case "welcome":
        return this.#onWelcome(message);
      case "ack": {
        this.#mergeLamport(message.lamport);
        counters.acks++;
        for (const a of message.acks) if (a.seq < context.ledger.size) this.#o.auditor.acknowledged(a.seq, a.index);
        if (this.#window.onAck(message.nextSeq)) {
          this.#ackProgressAt = Date.now();
          context.ledger.acknowledge(Math.min(message.nextSeq, context.ledger.durableCount));
        }
        for (const w of this.#ackWaiters) w();
        this.#ackWaiters.clear();
        void this.#pump();
        this.#serviceAgentCheckpoint();
        return;
      }
      case "field":
        this.#mergeLamport(message.lamport);
        counters.fieldsReceived++;
        context.applyField({ r: message.r, psi: message.psi, omega: message.omega, n: message.n, t: message.t });
        return;
      case "config":
        this.#applyConfig(message.config);
        return;
      case "checkpoint":
        this.#o.auditor.offer(message.note);
        return;
      case "standing":
        if (message.quarantined !== counters.quarantined) {
          context.log(message.quarantined ? "warn" : "info", message.quarantined ? "the edge quarantined this agent" : "the edge lifted this agent's quarantine", { reason: message.reason, weight: message.weight });
        }
        counters.quarantined = message.quarantined;
        return;
      case "pong":
        return;
      case "error":
        return this.#onError(message);
    }
  }

  /**
   * L = max(L, remote) + 1, except for a remote clock so large that adopting it would push ours past
   * the safe-integer range (a broken or hostile edge could otherwise wreck the agent's clock).
   */
  #mergeLamport(remote: number): void {
    if (remote > LAMPORT_CEILING) {
      this.#o.counters.invalidMessages++;
      this.#o.context.log("warn", "ignoring an absurd Lamport clock from the edge", { remote });
      return;
    }
    this.#o.context.lamport.update(remote);
  }

  #applyConfig(config: FleetConfig): void {
    this.#summaryHz = config.summaryHz;
    this.#o.context.applyConfig(config);
  }

  #onWelcome(message: Extract<EdgeMessage, { type: "welcome" }>): void {
    const { context, identity, counters } = this.#o;
    if (this.#welcomed) return;
    if (message.agentId !== identity.agentId) {
      context.log("error", "the edge welcomed another agent id; closing", { expected: identity.agentId, got: message.agentId });
      void this.close(1008, "agent id mismatch");
      return;
    }
    this.#mergeLamport(message.lamport);
    const durable = context.ledger.durableCount;
    const nextSeq = message.resume.nextSeq;
    if (nextSeq > context.ledger.size) {
      counters.sendingHalted = `the edge holds ${nextSeq} records of this agent, the ledger only ${context.ledger.size}`;
      context.log("error", "the edge holds more records than this ledger; new records would conflict", { edgeNextSeq: nextSeq, ledgerSize: context.ledger.size });
    }
    this.#window.reset(nextSeq);
    context.ledger.acknowledge(Math.min(nextSeq, durable));
    this.#applyConfig(message.config);
    const key = message.log.verifierKey;
    if (key !== null) {
      if (identity.verifierKey === null) {
        this.#o.pinVerifierKey(key);
        context.log("warn", "pinned the edge's log verifier key on first contact (trust on first use)", { verifierKey: key });
      } else if (key !== identity.verifierKey) {
        context.log("error", "the edge presents a different log verifier key than the pinned one; its checkpoints will be refused", { pinned: identity.verifierKey, presented: key });
      }
    }
    if (message.log.checkpoint !== null) this.#o.auditor.offer(message.log.checkpoint);
    this.#features = new Set(message.features ?? []);
    this.#welcomed = true;
    counters.welcomes++;
    this.#o.onWelcome();
    context.log("info", "connected to the edge", { fleetId: message.fleetId, resumeFrom: nextSeq, durable, replay: Math.max(0, durable - nextSeq) });
    this.#unsubscribe.push(context.onSummary((s) => this.#onSummary(s)));
    this.#unsubscribe.push(
      context.ledger.onDurable(() => {
        void this.#pump();
        this.#serviceAgentCheckpoint();
      }),
    );
    this.#ackProgressAt = Date.now();
    const report = this.#o.auditor.report();
    if (report !== null) this.reportLog(report);
    const watch = setInterval(() => this.#watchReplay(Date.now()), REPLAY_WATCH_INTERVAL_MS);
    watch.unref();
    this.#timers.push(watch);
    void this.#pump();
    if (this.#features.has(FEATURE_AGENT_CHECKPOINT)) this.#startAgentCheckpoints(message.log.origin);
    // A checkpoint kept before this connection (an earlier one, or the file) and not cosigned yet.
    const kept = this.#o.auditor.kept();
    if (kept !== undefined) this.cosign(kept);
  }

  /** Agent checkpoints to this edge: origin from the pinned fleet origin (else the one the edge names). */
  #startAgentCheckpoints(edgeOrigin: string): void {
    const { context, identity } = this.#o;
    const pinned = identity.origin;
    if (pinned !== null && pinned !== edgeOrigin) {
      // The edge would refuse a checkpoint under another origin than its own, and ours is pinned.
      context.log("error", "the edge names another log origin than the pinned one; no agent checkpoints on this connection", { pinned, presented: edgeOrigin });
      return;
    }
    this.#agentLogOrigin = agentLogOrigin(pinned ?? edgeOrigin, identity.agentId);
    this.#proofChain.schedule.welcomed();
    this.#serviceAgentCheckpoint();
  }

  /**
   * Signs an agent checkpoint when one is due and sends the newest signed one once the edge's acks
   * cover it (agentCheckpoints.ts). Runs on socket events, ledger fsyncs and its own timer, never on
   * a tick; a message waits for a token of the connection's budget like every other.
   */
  #serviceAgentCheckpoint(): void {
    const origin = this.#agentLogOrigin;
    if (origin === undefined || !this.#welcomed || this.#closed) return;
    const { context, counters } = this.#o;
    const schedule = this.#proofChain.schedule;
    const now = Date.now();
    const durable = context.ledger.durableCount;
    if (schedule.signDelay(now, durable) === 0) {
      try {
        const checkpoint = signAgentCheckpoint(origin, durable, context.ledger.root(durable), context.key);
        if (checkpoint.note.length > LIMITS.agentCheckpointNoteChars) throw new Error(`the signed note is ${checkpoint.note.length} characters, limit ${LIMITS.agentCheckpointNoteChars}`);
        schedule.signed(now, checkpoint);
      } catch (err) {
        this.#agentLogOrigin = undefined;
        context.log("error", "cannot sign an agent checkpoint; none are sent on this connection", { origin, error: (err as Error).message });
        return;
      }
    }
    let waitMs: number | undefined;
    const due = schedule.sendable(now, this.#window.ackedNext);
    if (due !== undefined) {
      if (this.#congested()) waitMs = CONGESTED_RETRY_MS;
      else if (!this.#budget.tryTake(now)) waitMs = this.#budget.waitMs(now);
      else if (this.#send({ type: "agent_checkpoint", lamport: context.lamport.tick(), note: due.note })) {
        schedule.markSent(now, due);
        counters.agentCheckpointsSent++;
        context.log("debug", "sent an agent checkpoint", { size: due.size });
      }
    }
    const waits = [waitMs, schedule.signDelay(now, durable)];
    const pending = schedule.pending;
    if (pending !== undefined && pending.size <= this.#window.ackedNext) waits.push(schedule.sendDelay(now));
    const next = Math.min(...waits.filter((w): w is number => w !== undefined && w > 0));
    if (Number.isFinite(next)) this.#wakeAgentCheckpoint(now, next);
  }

  #wakeAgentCheckpoint(now: number, ms: number): void {
    if (this.#checkpointTimer !== undefined && this.#checkpointDueAt <= now + ms) return;
    clearTimeout(this.#checkpointTimer);
    this.#checkpointDueAt = now + ms;
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      this.#serviceAgentCheckpoint();
    }, Math.max(1, ms));
  }

  /**
   * Cosigns a global checkpoint the auditor verified and kept, and sends it (`cosignature`) to an
   * edge that lists the feature; the newest waiting one replaces an older. Each size once per process.
   */
  cosign(kept: KeptCheckpoint): void {
    if (!this.#welcomed || this.#closed || this.#cosignHalted || !this.#features.has(FEATURE_COSIGNATURE)) return;
    if (kept.size === 0 || kept.size <= this.#proofChain.cosignedSize) return;
    if (this.#cosignQueued !== undefined && this.#cosignQueued.size >= kept.size) return;
    this.#cosignQueued = kept;
    this.#serviceCosign();
  }

  #serviceCosign(): void {
    const kept = this.#cosignQueued;
    if (kept === undefined || this.#closed || this.#cosignHalted) return;
    const { context, identity, counters } = this.#o;
    const now = Date.now();
    if (this.#congested() || !this.#budget.tryTake(now)) {
      if (this.#cosignTimer === undefined) {
        const wait = this.#congested() ? CONGESTED_RETRY_MS : this.#budget.waitMs(now);
        this.#cosignTimer = setTimeout(() => {
          this.#cosignTimer = undefined;
          this.#serviceCosign();
        }, Math.max(1, wait));
      }
      return;
    }
    this.#cosignQueued = undefined;
    let fields: ReturnType<typeof cosignKept>;
    try {
      fields = cosignKept(kept, identity.agentId, context.key, now);
    } catch (err) {
      context.log("error", "cannot cosign the edge's checkpoint", { size: kept.size, error: (err as Error).message });
      return;
    }
    if (this.#send({ type: "cosignature", lamport: context.lamport.tick(), ...fields })) {
      this.#proofChain.cosignedSize = Math.max(this.#proofChain.cosignedSize, kept.size);
      counters.cosignaturesSent++;
      context.log("debug", "cosigned the edge's checkpoint", { size: kept.size });
    }
  }

  /**
   * Tells the edge its log failed the audit (`log_report`), once per connection; before `welcome`
   * it waits for it (the welcome handler sends the auditor's report).
   */
  reportLog(report: LogAuditReport): void {
    if (!this.#welcomed || this.#logReported) return;
    if (this.#send({ type: "log_report", lamport: this.#o.context.lamport.tick(), ...report })) {
      this.#logReported = true;
      this.#o.context.log("warn", "reported the edge's log inconsistency to the edge", { kind: report.kind, reason: report.reason });
    }
  }

  #onError(message: Extract<EdgeMessage, { type: "error" }>): void {
    const { context, counters } = this.#o;
    counters.edgeErrors++;
    counters.lastError = `${message.code}: ${message.message}`;
    const details = message.details ?? {};
    switch (message.code) {
      case "seq_gap": {
        const expected = details.expected;
        if (typeof expected === "number" && Number.isSafeInteger(expected) && expected >= 0) {
          context.log("warn", "the edge expects an earlier record; resending from there", { expected });
          this.#window.rewind(expected);
          void this.#pump();
        }
        return;
      }
      case "seq_conflict":
      case "bad_signature":
      case "bad_record":
      case "agent_mismatch":
        // Resending would be refused the same way; stop and say so (docs/link.md).
        counters.sendingHalted = `${message.code}: ${message.message}`;
        context.log("error", "the edge refused a record; sending records stops until restart", { code: message.code, error: message.message, details });
        return;
      case "checkpoint_ahead":
        // The edge has not stored every record the checkpoint covers yet: the same one goes again later.
        context.log("info", "the edge does not hold every record of the agent checkpoint yet; sending it again later", { error: message.message, details });
        this.#proofChain.schedule.retryLater(Date.now());
        this.#serviceAgentCheckpoint();
        return;
      case "bad_checkpoint": {
        // A strike each: the next ones would be refused the same way, so none more on this connection.
        counters.agentCheckpointErrors++;
        const size = this.#proofChain.schedule.lastSent?.size ?? null;
        this.#proofChain.schedule.refused();
        this.#agentLogOrigin = undefined;
        context.log("error", "the edge refused the agent checkpoint; no more agent checkpoints on this connection", { code: message.code, error: message.message, size, details });
        return;
      }
      case "agent_log_inconsistent": {
        // The edge holds other records for this agent than its own ledger: nothing more to sign here.
        counters.agentCheckpointErrors++;
        counters.agentLogInconsistent = true;
        const size = this.#proofChain.schedule.lastSent?.size ?? null;
        this.#proofChain.schedule.refused();
        this.#agentLogOrigin = undefined;
        context.log("error", "AGENT LOG INCONSISTENT: the edge's records of this agent do not match its signed checkpoint; no more agent checkpoints on this connection", {
          error: message.message,
          size,
          details,
        });
        return;
      }
      case "unknown_checkpoint":
        // No strike (e.g. a checkpoint kept from an edge database that was since replaced): the next keep goes as usual.
        counters.cosignatureErrors++;
        context.log("warn", "the edge refused a cosignature", { code: message.code, error: message.message, details });
        return;
      case "bad_cosignature":
        // A strike each: cosigning stops on this connection.
        counters.cosignatureErrors++;
        this.#cosignHalted = true;
        this.#cosignQueued = undefined;
        context.log("error", "the edge refused a cosignature", { code: message.code, error: message.message, details });
        return;
      case "rate_limited":
        if (message.ref === "agent_checkpoint") {
          context.log("info", "the edge took an agent checkpoint too soon after the last; sending it again later", { error: message.message, retryAfterMs: details.retryAfterMs ?? null });
          const after = details.retryAfterMs;
          this.#proofChain.schedule.retryLater(Date.now(), typeof after === "number" ? after + 100 : undefined);
          this.#serviceAgentCheckpoint();
          return;
        }
        if (message.ref === "cosignature") {
          counters.cosignatureErrors++;
          context.log("warn", "the edge refused a cosignature", { code: message.code, error: message.message });
          return;
        }
        if (message.ref === "summary") {
          context.log("warn", "the edge refused a summary", { code: message.code, error: message.message });
          return;
        }
        // The connection's message rate: the edge dropped a message unread, maybe a records batch.
        // Its ack will never come; if what was in flight is not acknowledged within the grace, resend.
        counters.rateLimited++;
        context.log("warn", "the edge dropped a message (connection rate limit); unacknowledged records will be resent", { error: message.message, inFlight: this.#window.inFlight });
        if (this.#window.inFlight > 0) this.#lossSuspect ??= { at: Date.now() + RATE_LIMITED_GRACE_MS, below: this.#window.sentNext };
        return;
      case "lamport_replay":
      case "lamport_jump":
        context.log("warn", message.ref === "summary" ? "the edge refused a summary" : "the edge refused a message's clock", { code: message.code, error: message.message, ref: message.ref });
        return;
      default:
        context.log("warn", "the edge reported an error", { code: message.code, error: message.message, ref: message.ref });
    }
  }

  /** Called from the token clock's tick: only remembers the summary; the send happens after the tick. */
  #onSummary(s: PhaseSummary): void {
    if (!this.#welcomed || this.#closed) return;
    const scheduled = this.#queuedSummary !== undefined;
    this.#queuedSummary = s;
    if (!scheduled) {
      setImmediate(() => {
        const next = this.#queuedSummary;
        this.#queuedSummary = undefined;
        if (next) this.#sendSummary(next);
      });
    }
  }

  /** More unsent bytes on the socket than the limit: the edge (or the path to it) is not reading. */
  #congested(): boolean {
    return (this.#ws?.bufferedAmount ?? 0) > (this.#o.sendBufferLimitBytes ?? SEND_BUFFER_LIMIT_BYTES);
  }

  #sendSummary(s: PhaseSummary): void {
    if (!this.#welcomed || this.#closed) return;
    const now = Date.now();
    if (!summaryDue(this.#lastSummaryAt, now, this.#summaryHz)) return;
    if (this.#congested() || !this.#budget.tryTake(now)) {
      // A summary is a snapshot; the next one supersedes it. Skipping bounds what waits in memory
      // (congestion) and keeps the connection within the edge's message rate (no token).
      this.#o.counters.summariesSkipped++;
      return;
    }
    const sent = this.#send({
      type: "summary",
      lamport: this.#o.context.lamport.tick(),
      t: Math.max(0, Math.floor(s.t)),
      theta: s.theta,
      omega: s.omega,
      coherence: Math.min(1, Math.max(0, s.coherence)),
      tokenHz: s.tokenHz,
      phaseDrift: s.phaseDrift,
      collapsed: s.collapsed,
    });
    if (sent) {
      this.#lastSummaryAt = now;
      this.#o.counters.summariesSent++;
    }
  }

  /** Sends durable, unacknowledged records in order while the window has room. One pump at a time. */
  async #pump(): Promise<void> {
    if (this.#pumping || !this.#welcomed || this.#closed) return;
    const { context, counters } = this.#o;
    this.#pumping = true;
    try {
      while (!this.#closed && counters.sendingHalted === null) {
        const batch = this.#window.next(context.ledger.durableCount);
        if (!batch) return;
        // Paced: a batch waits for a token, so it also takes in whatever became durable meanwhile.
        const wait = this.#budget.waitMs(Date.now(), RECORDS_RESERVE);
        if (wait > 0) return this.#pumpLater(wait);
        let records: SealedRecord[];
        try {
          records = await context.ledger.readFrom(batch.from, batch.count);
        } catch (err) {
          counters.sendingHalted = `cannot read records from seq ${batch.from}: ${(err as Error).message}`;
          context.log("error", "cannot read unacknowledged records from the ledger; sending stops", { from: batch.from, error: (err as Error).message });
          return;
        }
        if (records.length === 0 || this.#closed) return;
        // A rewind (lost batches, seq_gap) during the read moved the window: plan again from there.
        if (batch.from !== this.#window.sentNext) continue;
        // A summary may have spent the token while the ledger read.
        if (!this.#budget.tryTake(Date.now(), RECORDS_RESERVE)) return this.#pumpLater(this.#budget.waitMs(Date.now(), RECORDS_RESERVE));
        const wasIdle = this.#window.inFlight === 0;
        const sent = this.#sendRecords(records.map(recordToWire));
        if (sent === 0) return;
        if (wasIdle) this.#ackProgressAt = Date.now();
        this.#window.markSent(batch.from, sent);
        counters.recordsSent += sent;
        counters.batchesSent++;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #pumpLater(ms: number): void {
    if (this.#pumpTimer !== undefined || this.#closed) return;
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = undefined;
      void this.#pump();
    }, Math.max(1, ms));
  }

  /**
   * Recovers lost batches: a message the edge dropped (rate limit, a fault between us) gets no ack,
   * and nothing else would ever free the window. Records in flight with no ack for replayStallMs, or
   * still unacknowledged after a `rate_limited`'s grace, are resent from the last ack; the edge
   * acknowledges records it already holds again and never appends them twice.
   */
  #watchReplay(now: number): void {
    if (!this.#welcomed || this.#closed || this.#o.counters.sendingHalted !== null) return;
    const window = this.#window;
    const suspect = this.#lossSuspect;
    if (suspect !== undefined && (window.ackedNext >= suspect.below || window.inFlight === 0)) this.#lossSuspect = undefined;
    if (window.inFlight === 0) return;
    // An edge that stops reading is not losing batches; the congestion guard drops that connection.
    if (this.#congested()) return;
    const lost = this.#lossSuspect !== undefined && now >= this.#lossSuspect.at;
    const stalled = now - this.#ackProgressAt >= (this.#o.replayStallMs ?? REPLAY_STALL_MS);
    if (!lost && !stalled) return;
    this.#o.counters.replayRewinds++;
    this.#o.context.log("warn", "records in flight were not acknowledged; resending from the last ack", {
      from: window.ackedNext,
      inFlight: window.inFlight,
      cause: lost ? "rate_limited" : "no ack",
    });
    window.rewind(window.ackedNext);
    this.#lossSuspect = undefined;
    this.#ackProgressAt = now;
    void this.#pump();
  }

  /** Sends a prefix of `records` that fits one message; returns how many went. */
  #sendRecords(records: WireRecord[]): number {
    let count = records.length;
    for (;;) {
      const text = JSON.stringify({ v: PROTOCOL_VERSION, type: "records", lamport: this.#o.context.lamport.time + 1, records: records.slice(0, count) });
      if (Buffer.byteLength(text) <= LIMITS.messageBytes - 64 || count === 1) break;
      count = Math.max(1, Math.floor(count / 2));
    }
    return this.#send({ type: "records", lamport: this.#o.context.lamport.tick(), records: records.slice(0, count) }) ? count : 0;
  }
}
