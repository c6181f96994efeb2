import {
  EmissaryTransducer,
  hashPhaseEncoder,
  MasterTransducer,
  SyncLayer,
  TemporalMemory,
  WitnessingLayer,
  signaturePayload,
  type PhaseEncoder,
  type SyncRecord,
  type SyncRule,
  transducerOverrides,
  type TemporalSignature,
} from "../engine/index.js";
import type { JsonValue } from "../ledger/record.js";
import type { CoherenceView, CoreStepResult, PhaseCore, SealCandidate } from "./phaseCore.js";
import type { QueuedToken } from "./tokenQueue.js";

/**
 * Lets a `phase` input reach the engines as its angle vector: the next `uses` encode() calls
 * return the given angles instead of hashing text (Master and Emissary each encode once). Text is
 * hashed once per token, not once per engine: the last text's angles are handed out again (the
 * engines only read them).
 */
class PhaseInputEncoder implements PhaseEncoder {
  readonly name: string;
  private next: Float64Array | undefined;
  get prefetchText(): ((text: string) => void) | undefined {
    const t = this.text;
    return t.prefetch ? (x) => t.prefetch!(x) : undefined;
  }
  private uses = 0;
  private lastText: string | undefined;
  private lastAngles: Float64Array | undefined;

  constructor(private readonly text: PhaseEncoder) {
    this.name = `${text.name}+phase-input`;
  }

  provide(angles: readonly number[], uses: number): void {
    this.next = Float64Array.from(angles);
    this.uses = uses;
  }

  /** After each token. */
  clear(): void {
    this.next = undefined;
    this.uses = 0;
    // The text memo assumes the encoder always answers alike; one that prefetches (embeddings) answers
    // from its hash fallback until the real angles arrive, so it keeps the memo for one token only.
    if (this.text.prefetch !== undefined) this.lastText = undefined;
  }

  encode(text: string): Float64Array {
    if (this.next && this.uses > 0) {
      this.uses--;
      return this.next;
    }
    if (text !== this.lastText || this.lastAngles === undefined) {
      this.lastAngles = this.text.encode(text);
      this.lastText = text;
    }
    return this.lastAngles;
  }
}

export interface EngineCoreOptions {
  /** Token clock rate f: token n runs at engine time start + n/f exactly. */
  readonly hz: number;
  /** Memory signatures kept in RAM (each holds a 384-angle vector); default 500. Every one is sealed. */
  readonly maxMemories?: number;
  /**
   * Entries kept in RAM of each of the engine's introspection logs — sync records, dissipations,
   * Emissary actions, witness records — for /coherence; default 256 (the ledger keeps what
   * matters). The engine's own limits (1,000–10,000 each) would hold several MB on a Pi after an hour.
   */
  readonly syncHistory?: number;
  /**
   * How text tokens become phases; default the hash encoder. Must be synchronous and must not wait
   * (the embeddings encoder answers from its cache and falls back; see embeddingEncoder.ts).
   */
  readonly encoder?: PhaseEncoder;
  /** UTC epoch ms, for memory timestamps; default Date.now. */
  readonly nowMs?: () => number;
  /**
   * How Master, Emissary and the sync layer are tuned to the token clock (agent/engine/sync-rule.ts);
   * default "fleet", the rule under which coherent streams collapse at 20 Hz ("reference" never does).
   */
  readonly syncRule?: SyncRule;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The engine behind the tick pipeline (agent/engine): Master and Emissary transducers under the
 * sync layer, a witnessing layer and temporal memory. Engine time is the token clock's: token n is
 * integrated at start + n/f seconds, so each token advances it by exactly dt = 1/f whatever the
 * wall clock does. The sync rule (default "fleet", agent/engine/sync-rule.ts) tunes Master,
 * Emissary and the sync layer to that clock.
 *
 * Worth sealing: a `sync.dissipation` for every rejected input (the pipeline folds most of them), a
 * `sync.collapse` when the sync layer enters collapse, and a `memory.signature` for the memory that
 * collapse encodes (forced, so each collapse leaves exactly one signature; memories are not encoded
 * on every coherent token, which would write kilobytes per tick to the SD card).
 */
export class EngineCore implements PhaseCore {
  private readonly hz: number;
  private readonly maxMemories: number;
  private readonly syncHistory: number;
  private readonly nowMs: () => number;
  readonly syncRule: SyncRule;
  private readonly encoder: PhaseInputEncoder;
  private readonly prefetchText: ((text: string) => void) | undefined;
  private master!: MasterTransducer;
  private emissary!: EmissaryTransducer;
  private sync!: SyncLayer;
  private witnessing!: WitnessingLayer;
  private memory!: TemporalMemory;
  private startSeconds = 0;
  private tokens = 0;
  private collapses = 0;
  private dissipations = 0;
  private lastSync: SyncRecord | undefined;
  private newSignatures: TemporalSignature[] = [];

  constructor(options: EngineCoreOptions) {
    if (!(options.hz > 0)) throw new RangeError(`hz must be > 0, got ${options.hz}`);
    this.hz = options.hz;
    this.maxMemories = options.maxMemories ?? 500;
    this.syncHistory = options.syncHistory ?? 256;
    this.nowMs = options.nowMs ?? Date.now;
    this.syncRule = options.syncRule ?? "fleet";
    if (this.syncRule !== "reference" && this.syncRule !== "fleet") throw new RangeError(`syncRule must be "reference" or "fleet", got ${String(this.syncRule)}`);
    this.encoder = new PhaseInputEncoder(options.encoder ?? hashPhaseEncoder);
    this.prefetchText = this.encoder.prefetchText;
    this.build();
  }

  private engineTime(): number {
    return this.startSeconds + this.tokens / this.hz;
  }

  private build(): void {
    this.startSeconds = Math.floor(this.nowMs() / 1000);
    this.tokens = 0;
    this.collapses = 0;
    this.dissipations = 0;
    const options = { encoder: this.encoder, now: () => this.engineTime(), startTime: this.startSeconds, logLimit: this.syncHistory };
    const tuned = transducerOverrides(this.syncRule, this.hz);
    const tunedOptions = tuned.tokenClockHz !== undefined ? { ...options, tokenClockHz: tuned.tokenClockHz } : options;
    this.master = new MasterTransducer(tuned.master, tunedOptions);
    this.emissary = new EmissaryTransducer(tuned.emissary, tunedOptions);
    this.sync = new SyncLayer(this.master, this.emissary, { rule: this.syncRule }, "sync-layer", { logLimit: this.syncHistory });
    this.witnessing = new WitnessingLayer({ maxContents: 256 });
    for (const id of ["master", "emissary", "sync"]) this.witnessing.createWitness(id);
    this.memory = new TemporalMemory({ maxMemories: this.maxMemories }, this.nowMs, (s) => this.newSignatures.push(s));
    this.lastSync = undefined;
  }

  prefetch(token: QueuedToken): void {
    if (token.type === "text") this.prefetchText?.(token.text);
  }

  step(token: QueuedToken, _dtSeconds: number): CoreStepResult {
    this.tokens++;
    const now = this.engineTime();
    const text = token.type === "text" ? token.text : "";
    if (token.type === "phase") this.encoder.provide(token.phases, 2);
    const wasCollapsed = this.sync.collapsed;
    let result;
    try {
      result = this.sync.offer(text, now);
    } finally {
      this.encoder.clear();
    }
    this.lastSync = result.sync;
    const seals: SealCandidate[] = [];
    const s = result.sync;
    // A collapse is a state of the pair, whichever input brought it (under the fleet rule a
    // dissipated input is integrated too); each one seals once, with the memory it encodes.
    if (s.collapsed && !wasCollapsed) {
      this.collapses++;
      seals.push({ kind: "sync.collapse", payload: syncPayload(s, this.tokens) });
      this.memory.encode(
        { coherence: Math.min(1, s.synchronizedCoherence), angles: result.emissary.angles },
        { force: true, origin: "sync-collapse", context: { token: tokenLabel(token), tokens: this.tokens } },
      );
      for (const sig of this.newSignatures.splice(0)) seals.push({ kind: "memory.signature", payload: toJson(signaturePayload(sig)) });
    }
    if (!result.accepted) {
      this.dissipations++;
      const d = result.dissipation;
      seals.push({
        kind: "sync.dissipation",
        payload: {
          reason: d.reason,
          phaseDifference: round(d.phaseDifference),
          masterCoherence: round(d.masterCoherence),
          emissaryCoherence: round(d.emissaryCoherence),
          inputLength: d.inputLength ?? null,
          engineTime: round(d.timestamp),
        },
      });
      return { coherence: this.sync.coherence, collapsed: this.sync.collapsed, dissipated: true, seals };
    }
    this.witnessing.witness({ token: tokenLabel(token) }, "master", result.master.coherence, now);
    this.witnessing.witness({ token: tokenLabel(token) }, "emissary", result.emissary.coherence, now);
    this.witnessing.witness({ token: tokenLabel(token) }, "sync", s.synchronizedCoherence, now);
    for (const sig of this.newSignatures.splice(0)) {
      seals.push({ kind: "memory.signature", payload: toJson(signaturePayload(sig)) });
    }
    return { coherence: this.sync.coherence, collapsed: this.sync.collapsed, dissipated: false, seals };
  }

  witnessReport(): JsonValue {
    const report = this.witnessing.coherenceReport(this.engineTime());
    return {
      tokens: this.tokens,
      totalObservations: report.totalObservations,
      totalIntegrations: report.totalIntegrations,
      averageContribution: round(report.averageContribution),
      contributions: Object.fromEntries(Object.entries(report.witnesses).map(([id, w]) => [id, round(w.coherenceContribution)])),
      master: { coherence: round(this.master.coherence), witnessCount: this.master.witnessCount },
      emissary: { coherence: round(this.emissary.coherence), witnessCount: this.emissary.witnessCount },
      sync: { coherence: round(this.sync.coherence), aligned: this.sync.aligned, collapsed: this.sync.collapsed },
    };
  }

  digest(): JsonValue {
    return {
      tokens: this.tokens,
      engineTime: round(this.engineTime()),
      master: { coherence: round(this.master.coherence), collapsed: this.master.collapse.collapsed, integrations: this.master.engine.integrationCount },
      emissary: { coherence: round(this.emissary.coherence), collapsed: this.emissary.collapse.collapsed, integrations: this.emissary.engine.integrationCount },
      sync: {
        coherence: round(this.sync.coherence),
        aligned: this.sync.aligned,
        collapsed: this.sync.collapsed,
        collapses: this.collapses,
        dissipations: this.dissipations,
        vectorClock: toJson(this.sync.vectorClock.snapshot()),
      },
      memories: this.memory.size,
    };
  }

  view(): CoherenceView {
    return {
      master: toJson(this.master.snapshot()),
      emissary: toJson(this.emissary.snapshot()),
      sync: toJson({ ...this.sync.snapshot(), lastRecord: this.lastSync ?? null }),
      witness: toJson(this.witnessing.coherenceReport(this.engineTime())),
      coherence: this.sync.coherence,
      collapsed: this.sync.collapsed,
    };
  }

  reset(): void {
    this.newSignatures = [];
    this.build();
  }
}

function syncPayload(s: SyncRecord, tokens: number): JsonValue {
  return {
    coherence: round(s.synchronizedCoherence),
    tSync: [round(s.tSync[0]), round(s.tSync[1])],
    tMaster: [round(s.tMaster[0]), round(s.tMaster[1])],
    tEmissary: [round(s.tEmissary[0]), round(s.tEmissary[1])],
    phaseDifference: round(s.phaseDifference),
    phaseAngleDifference: round(s.phaseAngleDifference),
    vectorClock: toJson(s.causalAnchor),
    engineTime: round(s.timestamp),
    tokens,
  };
}

function tokenLabel(token: QueuedToken): string {
  return token.type === "text" ? token.text.slice(0, 64) : `phase[${token.phases.length}]`;
}

/** A JSON-safe copy (drops undefined and functions, typed arrays become arrays, non-finite → null). */
function toJson(value: unknown): JsonValue {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      if (typeof v === "number" && !Number.isFinite(v)) return null;
      return v;
    }) ?? "null",
  ) as JsonValue;
}
