import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LamportClock } from "../../shared/causality/lamport-clock.js";
import type { MeanField } from "../../shared/kuramoto/index.js";
import type { FleetConfig } from "../../shared/protocol/config.js";
import { createApiApp, type AgentApiBackend, type InputOutcome, type SubmitResult } from "../api/apiApp.js";
import { startApiServer, type ApiServer } from "../api/apiServer.js";
import { loadOrCreateApiToken } from "../api/bearerToken.js";
import { agentMetrics } from "../api/agentMetrics.js";
import { NonceStore } from "../api/nonceStore.js";
import { SignedRequestVerifier } from "../api/resetSignature.js";
import { monotonicMs, TokenClock } from "../clock/tokenClock.js";
import type { AgentConfig } from "../config/agentConfig.js";
import { agentIdFromPublicKey } from "../identity/agentId.js";
import { loadOrCreateDeviceKey, type DeviceKey } from "../identity/deviceKey.js";
import { Ledger } from "../ledger/ledger.js";
import { runSseSource } from "../sources/sseSource.js";
import { fileSource, stdinSource, type StreamSource } from "../sources/streamSource.js";
import { defaultPhaseStep, phaseStreamSource } from "../sources/phaseStream.js";
import { hashPhaseEncoder, type PhaseEncoder } from "../engine/encoder.js";
import { parsePhaseToken, phaseTokenEncoder } from "../engine/phase-token.js";
import { EmbeddingEncoder } from "./embeddingEncoder.js";
import type { EdgeLink, LinkContext, LinkState, PhaseSummary } from "./edgeLink.js";
import { EngineCore } from "./engineCore.js";
import { lockDataDir } from "./dataDirLock.js";
import { LatencyWindow } from "./latencyWindow.js";
import { MeshOscillator } from "./meshOscillator.js";
import type { PhaseCore } from "./phaseCore.js";
import { TickPipeline } from "./tickPipeline.js";
import { TokenQueue, type QueuedToken } from "./tokenQueue.js";
import { boundedLineSink } from "./logSink.js";

export const AGENT_VERSION = "0.1.0";

export type LogLevel = "error" | "warn" | "info" | "debug";
const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface StartAgentOptions {
  /** The engine behind the pipeline; default EngineCore over agent/engine. */
  readonly core?: PhaseCore;
  /** An edge link to start with the agent (or attach later with `attachLink`). */
  readonly link?: EdgeLink;
  /** Where log lines go; default JSON lines on stderr. */
  readonly log?: (line: string) => void;
}

/** A running agent. */
export interface AgentHandle {
  readonly agentId: string;
  readonly key: DeviceKey;
  readonly config: AgentConfig;
  /** The local API, unless disabled. */
  readonly api: ApiServer | undefined;
  readonly ledger: Ledger;
  readonly queue: TokenQueue;
  readonly clock: TokenClock;
  readonly pipeline: TickPipeline;
  readonly mesh: MeshOscillator;
  readonly lamport: LamportClock;
  /** What an edge link receives (also passed to `link.start`). */
  readonly linkContext: LinkContext;
  /** Starts an edge link against this agent (one at a time). */
  attachLink(link: EdgeLink): Promise<void>;
  /** Runs `hook` during shutdown, after the clock stopped and the ledger was flushed, before it is closed. */
  onShutdown(hook: () => Promise<void> | void): void;
  summary(): PhaseSummary;
  /** Stops everything: sources, clock, API, link (1001), then flushes and closes the ledger. Idempotent. */
  stop(reason?: string): Promise<void>;
  /** Resolves when the agent has stopped. */
  readonly stopped: Promise<void>;
}

/**
 * Composes the on-device runtime: identity, ledger, token clock, tick pipeline, sources and local
 * API. The edge link plugs in through `options.link` / `attachLink` (agent/link).
 */
export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<AgentHandle> {
  const write = options.log ?? boundedLineSink();
  const log = (level: LogLevel, message: string, data?: Record<string, unknown>): void => {
    if (LEVELS[level] > LEVELS[config.logLevel]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level, msg: message, ...data }));
  };

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, options, log, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function startLocked(
  config: AgentConfig,
  options: StartAgentOptions,
  log: (level: LogLevel, message: string, data?: Record<string, unknown>) => void,
  unlock: () => void,
): Promise<AgentHandle> {
  const key = loadOrCreateDeviceKey(config.dataDir);
  const agentId = agentIdFromPublicKey(key.publicKeyRaw);
  if (key.created) log("info", "created device key", { agentId, publicKey: key.publicKeyBase64Url });
  const apiToken = loadOrCreateApiToken(config.dataDir);

  const ledger = await Ledger.open({ dir: join(config.dataDir, "ledger"), key, agentId, ...config.ledger });
  if (ledger.tornBytesCut > 0) log("warn", "cut a torn ledger tail left by a crash", { bytes: ledger.tornBytesCut, size: ledger.size });

  const queue = new TokenQueue(config.queue.capacity);
  const lamport = new LamportClock();
  let fleetConfig: FleetConfig | undefined;
  let summaryHz = config.mesh.summaryHz;
  const mesh = new MeshOscillator(config.mesh.omega, {
    coupling: config.mesh.coupling,
    maxStep: config.mesh.maxStep,
    fieldMaxAgeMs: 15_000,
  }, config.mesh.theta0);
  const { encoder, embeddings } = buildEncoder(config, log);
  const core = options.core ?? new EngineCore({ hz: config.hz, encoder, syncRule: config.syncRule });
  const pipeline = new TickPipeline(core, mesh, queue, ledger, lamport, {
    hz: config.hz,
    digestEverySeconds: config.seal.digestEverySeconds,
    witnessEverySeconds: config.seal.witnessEverySeconds,
  });
  const clock = new TokenClock({ hz: config.hz });
  const lateness = new LatencyWindow(4096);
  const startedAt = Date.now();

  // Wall time of a tick from the monotonic schedule: immune to wall-clock steps while running.
  const epoch0 = Date.now();
  const mono0 = monotonicMs();
  const wallOf = (mono: number) => epoch0 + (mono - mono0);

  const summaryListeners = new Set<(s: PhaseSummary) => void>();
  const summary = (): PhaseSummary => {
    const now = wallOf(monotonicMs());
    const view = mesh.view(now);
    const last = pipeline.lastResult;
    return {
      t: Math.floor(now),
      theta: view.theta,
      omega: view.omega,
      coherence: Math.min(1, Math.max(0, last?.coherence ?? 0)),
      tokenHz: config.hz,
      phaseDrift: view.phaseGap,
      collapsed: last?.collapsed ?? false,
    };
  };

  let ticksSinceSummary = 0;
  clock.start((tick) => {
    lateness.add(tick.latenessMs);
    pipeline.onTick(tick, wallOf(tick.dueMs));
    ticksSinceSummary++;
    if (summaryListeners.size > 0 && ticksSinceSummary >= config.hz / summaryHz) {
      ticksSinceSummary = 0;
      const s = summary();
      for (const listener of summaryListeners) {
        try {
          listener(s);
        } catch (err) {
          log("error", "summary listener failed", { error: (err as Error).message });
        }
      }
    }
  });

  // ---- sources ----
  const streamSources: StreamSource[] = [];
  if (config.sources.stdin) streamSources.push(stdinSource(queue, config.sources.split));
  if (config.sources.file) streamSources.push(fileSource(config.sources.file, queue, config.sources.split));
  const phaseStream = config.sources.phaseStream;
  if (phaseStream) streamSources.push(phaseStreamSource({ ...phaseStream, step: phaseStream.step ?? defaultPhaseStep(config.hz, config.syncRule) }, queue));
  const sseAbort = new AbortController();
  const sse = config.sources.sse;
  if (sse) {
    void (async () => {
      let failures = 0;
      do {
        try {
          const r = await runSseSource(sse, queue, sseAbort.signal);
          failures = 0;
          log("info", "completion stream ended", { tokens: r.tokens, done: r.done });
        } catch (err) {
          if (sseAbort.signal.aborted) return;
          failures++;
          log("warn", "completion stream failed", { error: (err as Error).message, code: (err as { code?: string }).code });
        }
        if (sseAbort.signal.aborted) return;
        // Capped exponential backoff after failures; a short pause between successful completions.
        const waitMs = failures === 0 ? 200 : Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        await new Promise((r) => setTimeout(r, waitMs));
      } while ((sse.repeat || failures > 0) && !sseAbort.signal.aborted);
    })();
  }

  // ---- link ----
  let link: EdgeLink | undefined;
  const linkState = (): LinkState => link?.state() ?? "disabled";
  const linkContext: LinkContext = {
    agentId,
    key,
    dataDir: config.dataDir,
    edgeUrl: config.edge.url,
    enrollToken: config.edge.enrollToken,
    deviceName: config.edge.name,
    allowPlaintextEdge: config.edge.allowPlaintext,
    ledger,
    lamport,
    summary,
    onSummary(listener) {
      summaryListeners.add(listener);
      return () => {
        summaryListeners.delete(listener);
      };
    },
    applyField(field: MeanField) {
      mesh.setField(field);
    },
    applyConfig(next: FleetConfig) {
      if (fleetConfig && next.version <= fleetConfig.version) return;
      fleetConfig = next;
      summaryHz = next.summaryHz;
      mesh.setCoupling({ coupling: next.coupling, maxStep: next.maxStep, fieldMaxAgeMs: Math.max(next.offlineAfterMs, 1000) });
      log("info", "applied fleet config", { version: next.version, coupling: next.coupling, maxStep: next.maxStep });
    },
    log,
  };

  // ---- API ----
  let accepting = true;
  const backend: AgentApiBackend = {
    info: () => ({
      name: "becomingone-agent",
      version: AGENT_VERSION,
      agentId,
      publicKey: key.publicKeyBase64Url,
      startedAt: new Date(startedAt).toISOString(),
      endpoints: {
        "GET /": "this description",
        "GET /health": "liveness and component status",
        "GET /coherence": "master, emissary, sync, mesh θ and field",
        "GET /metrics": "Prometheus text format",
        "POST /input": "feed tokens {type: text|tokens|phase} (bearer token)",
        "POST /reset": "reset the engine (bearer token or Ed25519-signed request)",
      },
    }),
    health: () => {
      const c = clock.stats();
      const l = ledger.stats();
      return {
        status: c.running ? "ready" : "stopping",
        timestamp: new Date().toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        agentId,
        clock: { hz: c.hz, running: c.running, ticks: c.ticks, late: c.late, missed: c.missed },
        queue: { depth: queue.depth, capacity: queue.capacity },
        ledger: { size: l.size, durable: l.durableCount, acked: l.ackedCount, bytes: l.bytesOnDisk, writeErrors: l.writeErrors },
        link: linkState(),
        edge: link?.stats?.() ?? null,
      };
    },
    coherence: () => {
      const now = wallOf(monotonicMs());
      const view = core.view();
      return {
        timestamp: new Date(now).toISOString(),
        coherence: view.coherence,
        collapsed: view.collapsed,
        master: view.master,
        emissary: view.emissary,
        sync: view.sync,
        witness: view.witness ?? null,
        mesh: mesh.view(now),
      };
    },
    metricsText: () =>
      agentMetrics({
        clock: clock.stats(),
        lateness,
        queue: queue.stats(),
        pipeline: pipeline.counters(),
        ledger: ledger.stats(),
        coherence: pipeline.lastResult?.coherence ?? 0,
        mesh: mesh.view(wallOf(monotonicMs())),
        link: linkState(),
        linkStats: link?.stats?.(),
        api: api?.connections(),
      }),
    submit: (tokens, waitMs) => submitBatch(tokens, waitMs),
    reset: () => pipeline.requestReset(),
    accepting: () => accepting,
  };

  function submitBatch(tokens: readonly QueuedToken[], waitMs: number): SubmitResult {
    if (!queue.fits(tokens)) {
      queue.offer(tokens); // counts the refusal
      return {
        accepted: false,
        retryAfterSeconds: Math.max(1, queue.secondsUntilRoomFor(tokens, config.hz)),
        depth: queue.depth,
        capacity: queue.capacity,
      };
    }
    let settle: (o: InputOutcome) => void = () => {};
    const outcome = new Promise<InputOutcome>((resolve) => (settle = resolve));
    let seen = 0;
    let dissipated = 0;
    let firstTick = -1;
    let epoch = -1;
    const ticket = {
      size: tokens.length,
      onToken(o: { tick: number; epoch: number; coherence: number; collapsed: boolean; dissipated: boolean }) {
        if (seen === 0) {
          firstTick = o.tick;
          epoch = o.epoch;
        }
        seen++;
        if (o.dissipated) dissipated++;
        if (seen === tokens.length) {
          clearTimeout(timer);
          settle({ status: "processed", tokens: seen, coherence: o.coherence, collapsed: o.collapsed, dissipated, epoch, firstTick, lastTick: o.tick });
        }
      },
    };
    queue.offer(tokens.map((t) => ({ ...t, batch: ticket })));
    const timer = setTimeout(() => settle({ status: "queued", tokens: tokens.length, queueDepth: queue.depth }), waitMs);
    timer.unref();
    return { accepted: true, outcome };
  }

  let api: ApiServer | undefined;
  if (config.api.enabled) {
    try {
      const app = createApiApp({
        backend,
        apiToken,
        signatures: new SignedRequestVerifier({
          agentId,
          allowedKeys: config.api.resetKeys,
          windowMs: config.api.signatureWindowMs,
          store: new NonceStore(config.dataDir),
        }),
        inputWaitMs: config.api.inputWaitMs,
        onInternalError: (err, request) => log("error", "local API request failed", { ...request, error: err.message, stack: err.stack }),
      });
      api = await startApiServer(app, {
        host: config.api.host,
        port: config.api.port,
        tlsCert: config.api.tlsCert,
        tlsKey: config.api.tlsKey,
        headersTimeoutMs: config.api.headersTimeoutMs,
        requestTimeoutMs: config.api.requestTimeoutMs,
        allowedHosts: config.api.allowedHosts,
        limits: {
          maxConnections: config.api.maxConnections,
          firstRequestTimeoutMs: config.api.firstRequestTimeoutMs,
          maxPipelined: config.api.maxPipelined,
          maxBufferedBytes: config.api.maxBufferedBytes,
          drainTimeoutMs: config.api.drainTimeoutMs,
        },
      });
    } catch (err) {
      clock.stop();
      await ledger.close();
      throw err;
    }
    log("info", "local API listening", { url: api.url });
  }

  const shutdownHooks: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));

  const handle: AgentHandle = {
    agentId,
    key,
    config,
    api,
    ledger,
    queue,
    clock,
    pipeline,
    mesh,
    lamport,
    linkContext,
    async attachLink(next: EdgeLink) {
      if (link) throw new Error("an edge link is already attached");
      link = next;
      await next.start(linkContext);
    },
    onShutdown(hook) {
      shutdownHooks.push(hook);
    },
    summary,
    stop(reason = "stop") {
      stopping ??= (async () => {
        log("info", "stopping", { reason });
        accepting = false;
        sseAbort.abort();
        for (const s of streamSources) s.stop();
        clock.stop();
        // The dissipations folded since the last witness report would otherwise be lost.
        pipeline.flushFolded();
        embeddings?.close();
        await ledger.flush();
        for (const hook of shutdownHooks) {
          try {
            await hook();
          } catch (err) {
            log("error", "shutdown hook failed", { error: (err as Error).message });
          }
        }
        if (link) await link.stop().catch((err: unknown) => log("error", "link stop failed", { error: (err as Error).message }));
        if (api) await api.close();
        await ledger.close();
        unlock();
        log("info", "stopped", { records: ledger.size, durable: ledger.durableCount });
        markStopped();
      })();
      return stopping;
    },
    stopped,
  };
  if (options.link) await handle.attachLink(options.link);
  return handle;
}

/**
 * The text encoder the config asks for: hash (default), phase tokens, or embeddings (with the hash
 * encoder as fallback). A phase stream source turns phase-token parsing on over whichever is chosen.
 */
function buildEncoder(
  config: AgentConfig,
  log: (level: LogLevel, message: string, data?: Record<string, unknown>) => void,
): { encoder: PhaseEncoder; embeddings: EmbeddingEncoder | undefined } {
  let encoder: PhaseEncoder = hashPhaseEncoder;
  let embeddings: EmbeddingEncoder | undefined;
  const e = config.encoder.embeddings;
  if (config.encoder.kind === "embeddings" && e?.url && e.model) {
    embeddings = new EmbeddingEncoder({ ...e, url: e.url, model: e.model, log: (level, message, data) => log(level, message, data) });
    encoder = embeddings;
  }
  if (config.encoder.kind === "phase" || config.sources.phaseStream) {
    const inner = encoder;
    const phase = phaseTokenEncoder(inner);
    encoder = inner.prefetch ? { name: phase.name, encode: (t) => phase.encode(t), prefetch: (t) => (parsePhaseToken(t) === undefined ? inner.prefetch!(t) : undefined) } : phase;
  }
  return { encoder, embeddings };
}
