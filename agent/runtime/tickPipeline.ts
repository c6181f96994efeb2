import type { LamportClock } from "../../shared/causality/lamport-clock.js";
import type { TickInfo } from "../clock/tokenClock.js";
import type { Ledger } from "../ledger/ledger.js";
import type { JsonValue, RecordKind } from "../ledger/record.js";
import { DissipationFold, type DissipationEvent } from "./dissipationFold.js";
import type { MeshOscillator } from "./meshOscillator.js";
import type { CoreStepResult, PhaseCore, SealCandidate } from "./phaseCore.js";
import type { BatchTicket, TokenQueue } from "./tokenQueue.js";

export interface PipelineOptions {
  readonly hz: number;
  /** Seal a `state.digest` every this many seconds of ticks; default 30. */
  readonly digestEverySeconds?: number;
  /** Seal a `witness.report` every this many seconds of ticks; default 10. */
  readonly witnessEverySeconds?: number;
  /** At most one individually sealed (notable) `sync.dissipation` per this many ms; default 1000. */
  readonly dissipationSealIntervalMs?: number;
  /** Queued tokens the core is told about ahead of their tick (PhaseCore.prefetch); default hz (1 s of budget). */
  readonly prefetchTokens?: number;
  /**
   * Consecutive accepted inputs after which a dissipation is an `onset` (notable); default 30·hz
   * (30 s of ticks). Under the fleet sync rule a text stream is mostly accepted and flickers into
   * short dissipation bursts every few seconds; only the end of a long alignment is news.
   */
  readonly dissipationOnsetTokens?: number;
}

export interface PipelineCounters {
  readonly ticks: number;
  readonly tokens: number;
  readonly collapses: number;
  readonly dissipations: number;
  readonly sealed: number;
  /** Seals the ledger refused (disk budget spent) or failed. */
  readonly sealRefused: number;
  readonly resets: number;
  /** Reset count: tokens processed after the n-th reset belong to epoch n. */
  readonly epoch: number;
  /** Engine errors caught in a tick (the clock keeps running). */
  readonly stepErrors: number;
}

export interface ResetOutcome {
  readonly epoch: number;
  /** Clock tick index at which the reset was applied (before that tick's token; never inside an input batch). */
  readonly tick: number;
  /** Tokens still queued, processed after the reset. */
  readonly queued: number;
}

/**
 * One tick: advance the mesh oscillator, feed at most one queued token through the engine with
 * dt = 1/f exactly, seal what is worth sealing. Everything here is synchronous and in memory (the
 * ledger only queues for its background fsync), so a tick never waits on the network or the disk.
 */
export class TickPipeline {
  readonly dtSeconds: number;
  private readonly digestEveryTicks: number;
  private readonly witnessEveryTicks: number;
  private readonly fold: DissipationFold;
  private readonly prefetchTokens: number;
  private ticks = 0;
  private tokens = 0;
  private collapses = 0;
  private dissipations = 0;
  private sealed = 0;
  private sealRefused = 0;
  private resets = 0;
  private stepErrors = 0;
  /** The batch whose tokens have started but not all finished. */
  private openBatch: { ticket: BatchTicket; left: number } | undefined;
  private pendingResets: ((outcome: ResetOutcome) => void)[] = [];
  private lastResultValue: CoreStepResult | undefined;

  constructor(
    private readonly core: PhaseCore,
    private readonly mesh: MeshOscillator,
    private readonly queue: TokenQueue,
    private readonly ledger: Ledger,
    private readonly lamport: LamportClock,
    options: PipelineOptions,
  ) {
    this.dtSeconds = 1 / options.hz;
    this.digestEveryTicks = Math.max(1, Math.round((options.digestEverySeconds ?? 30) * options.hz));
    this.witnessEveryTicks = Math.max(1, Math.round((options.witnessEverySeconds ?? 10) * options.hz));
    this.prefetchTokens = Math.max(0, Math.round(options.prefetchTokens ?? options.hz));
    this.fold = new DissipationFold({
      minIntervalMs: options.dissipationSealIntervalMs ?? 1000,
      onsetRunTokens: options.dissipationOnsetTokens ?? Math.max(1, Math.round(30 * options.hz)),
    });
  }

  get lastResult(): CoreStepResult | undefined {
    return this.lastResultValue;
  }

  /** The clock's tick handler. `wallMs` is the tick's due time as UTC epoch ms. */
  onTick(tick: TickInfo, wallMs: number): void {
    this.ticks++;
    this.mesh.step(this.dtSeconds, wallMs);
    // A reset waits until the batch in flight has finished, then runs before the next token.
    if (this.pendingResets.length > 0 && !this.openBatch) this.applyReset(tick.index);
    const token = this.queue.take();
    this.prefetchAhead();
    if (token) {
      this.lamport.tick();
      let result: CoreStepResult;
      try {
        result = this.core.step(token, this.dtSeconds);
      } catch {
        this.stepErrors++;
        result = { coherence: this.lastResultValue?.coherence ?? 0, collapsed: false, dissipated: true, seals: [] };
      }
      this.lastResultValue = result;
      this.tokens++;
      if (result.dissipated) this.dissipations++;
      else this.fold.accepted();
      let collapsed = false;
      for (const seal of result.seals) {
        if (seal.kind === "sync.collapse") {
          this.collapses++;
          collapsed = true;
        }
        this.sealCandidate(seal, wallMs);
      }
      // After this input's own seals: a dissipation judged on the state before the collapse is not "after" it.
      if (collapsed) this.fold.collapsed();
      this.trackBatch(token.batch, tick.index, result);
    }
    if (this.ticks % this.witnessEveryTicks === 0) this.sealWitnessReport();
    if (this.ticks % this.digestEveryTicks === 0) this.seal("state.digest", this.digest(wallMs));
  }

  /** Resolves once the reset has been applied, at a tick boundary outside any input batch. */
  requestReset(): Promise<ResetOutcome> {
    return new Promise((resolve) => this.pendingResets.push(resolve));
  }

  counters(): PipelineCounters {
    return {
      ticks: this.ticks,
      tokens: this.tokens,
      collapses: this.collapses,
      dissipations: this.dissipations,
      sealed: this.sealed,
      sealRefused: this.sealRefused,
      resets: this.resets,
      epoch: this.resets,
      stepErrors: this.stepErrors,
    };
  }

  /**
   * Seals a `witness.report` now if dissipations are waiting to be reported (shutdown calls this, so
   * the last window's counts are not lost). Returns true when one was sealed.
   */
  flushFolded(): boolean {
    if (!this.fold.pending) return false;
    this.sealWitnessReport();
    return true;
  }

  /** The periodic digest: engine state plus the agent log head. */
  digest(wallMs: number): JsonValue {
    const mesh = this.mesh.view(wallMs);
    return {
      at: new Date(wallMs).toISOString(),
      ticks: this.ticks,
      tokens: this.tokens,
      epoch: this.resets,
      theta: mesh.theta,
      field: mesh.field ? { r: mesh.field.r, psi: mesh.field.psi, n: mesh.field.n } : null,
      engine: this.core.digest(),
      log: { size: this.ledger.durableCount, root: Buffer.from(this.ledger.root()).toString("base64") },
    };
  }

  private trackBatch(ticket: BatchTicket | undefined, tick: number, result: CoreStepResult): void {
    if (!ticket) return;
    if (!this.openBatch || this.openBatch.ticket !== ticket) this.openBatch = { ticket, left: ticket.size };
    this.openBatch.left--;
    const done = this.openBatch.left <= 0;
    if (done) this.openBatch = undefined;
    ticket.onToken({ tick, epoch: this.resets, coherence: result.coherence, collapsed: result.collapsed, dissipated: result.dissipated });
  }

  private applyReset(tickIndex: number): void {
    this.core.reset();
    this.fold.resetEpoch();
    this.resets++;
    this.lastResultValue = undefined;
    const outcome: ResetOutcome = { epoch: this.resets, tick: tickIndex, queued: this.queue.depth };
    const waiting = this.pendingResets;
    this.pendingResets = [];
    for (const resolve of waiting) resolve(outcome);
  }

  /** Tells the core about the next queued tokens, so an encoder that fetches has their time in the queue as budget. */
  private prefetchAhead(): void {
    const prefetch = this.core.prefetch;
    if (!prefetch) return;
    for (let i = 0; i < this.prefetchTokens; i++) {
      const next = this.queue.peek(i);
      if (!next) break;
      try {
        prefetch.call(this.core, next);
      } catch {
        break; // a hint only: never let it break the tick
      }
    }
  }

  /** The engine's witnessing report plus the dissipations folded since the last report. */
  private sealWitnessReport(): void {
    const report = this.core.witnessReport();
    const dissipations = this.fold.takeReport();
    const payload: JsonValue =
      report !== null && typeof report === "object" && !Array.isArray(report) ? { ...(report as { readonly [k: string]: JsonValue }), dissipations } : { report, dissipations };
    this.seal("witness.report", payload);
  }

  private sealCandidate(seal: SealCandidate, wallMs: number): void {
    if (seal.kind !== "sync.dissipation") {
      this.seal(seal.kind, seal.payload);
      return;
    }
    // Dissipations can come every tick: fold them into the next witness report unless notable.
    const decision = this.fold.dissipated(dissipationEvent(seal.payload), wallMs);
    if (decision.notable) {
      this.seal("sync.dissipation", { event: seal.payload, notable: [...decision.notable], alsoDissipatedSinceLast: decision.alsoDissipatedSinceLast });
    }
  }

  private seal(kind: RecordKind, payload: JsonValue): void {
    try {
      const result = this.ledger.append(kind, payload);
      if (result.ok) this.sealed++;
      else this.sealRefused++;
    } catch {
      this.sealRefused++;
    }
  }
}

/** The fields the fold needs from a dissipation candidate's payload (non-numbers read as 0). */
function dissipationEvent(payload: JsonValue): DissipationEvent {
  const o = payload !== null && typeof payload === "object" && !Array.isArray(payload) ? (payload as { readonly [k: string]: JsonValue }) : {};
  const n = (v: JsonValue | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    reason: typeof o.reason === "string" ? o.reason.slice(0, 128) : "unknown",
    phaseDifference: n(o.phaseDifference),
    masterCoherence: n(o.masterCoherence),
    emissaryCoherence: n(o.emissaryCoherence),
    engineTime: n(o.engineTime),
  };
}
