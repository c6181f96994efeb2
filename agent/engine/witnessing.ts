/**
 * Witnessing (W_i = G[W_i]): observe → reflect → integrate (ENGINE.md §9, REFERENCE.md §10).
 * The reference summed contributions linearly without bound; here each witness's coherence
 * contribution is a logistic integrator: it decays toward 0 between integrations
 * (C ← C·e^{−λ·Δt}) and grows toward 1 on each (C ← C + rate·boost·(1 − C)), so it stays in [0, 1).
 */
export type WitnessingMode = "observe" | "reflect" | "integrate" | "witness_other" | "mutual";
export const WITNESSING_MODES: readonly WitnessingMode[] = ["observe", "reflect", "integrate", "witness_other", "mutual"];

export type TransformationType = "strengthen" | "probe" | "maintain";

export interface WitnessState {
  readonly witnessId: string;
  readonly mode: WitnessingMode;
  observationCount: number;
  reflectionCount: number;
  integrationCount: number;
  /** In [0, 1). */
  coherenceContribution: number;
  lastObserved: number | null;
  lastIntegrated: number | null;
}

export interface WitnessedContent {
  readonly contentId: string;
  readonly rawContent: unknown;
  readonly witnessId: string;
  readonly witnessingMode: WitnessingMode;
  readonly coherenceAtWitnessing: number;
  transformation: { readonly type: TransformationType; readonly coherenceBoost: number } | null;
  readonly metaObservations: string[];
  readonly timestamp: number;
}

export interface WitnessingConfig {
  readonly coherenceThreshold: number;
  readonly reflectionDepth: number;
  readonly integrationRate: number;
  /** λ in 1/s: the contribution's decay between integrations (half-life ln2/λ ≈ 1 h by default). */
  readonly decayPerSecond: number;
  readonly maxContents: number;
}

export const DEFAULT_WITNESSING_CONFIG: WitnessingConfig = {
  coherenceThreshold: 0.7,
  reflectionDepth: 3,
  integrationRate: 0.1,
  decayPerSecond: Math.LN2 / 3600,
  maxContents: 10000,
};

export const PROBE_BELOW = 0.3;
const BOOST: Record<TransformationType, (rate: number) => number> = {
  strengthen: (rate) => rate,
  probe: () => 0.05,
  maintain: () => 0.02,
};

export class WitnessError extends Error {
  override readonly name = "WitnessError";
}

export class WitnessingLayer {
  readonly config: WitnessingConfig;
  private readonly witnesses = new Map<string, WitnessState>();
  private readonly contents = new Map<string, WitnessedContent>();
  private nextContent = 0;

  constructor(
    config: Partial<WitnessingConfig> = {},
    /** Called when an integrated content's coherence exceeds the threshold (e.g. to encode a memory). */
    private readonly onStrongIntegration?: (content: WitnessedContent) => void,
  ) {
    this.config = { ...DEFAULT_WITNESSING_CONFIG, ...config };
  }

  createWitness(witnessId: string, mode: WitnessingMode = "observe"): WitnessState {
    if (!WITNESSING_MODES.includes(mode)) throw new WitnessError(`unknown witnessing mode ${JSON.stringify(mode)}`);
    const state: WitnessState = {
      witnessId,
      mode,
      observationCount: 0,
      reflectionCount: 0,
      integrationCount: 0,
      coherenceContribution: 0,
      lastObserved: null,
      lastIntegrated: null,
    };
    this.witnesses.set(witnessId, state);
    return state;
  }

  getWitness(witnessId: string): WitnessState | undefined {
    return this.witnesses.get(witnessId);
  }

  private require(witnessId: string): WitnessState {
    const w = this.witnesses.get(witnessId);
    if (!w) throw new WitnessError(`unknown witness ${JSON.stringify(witnessId)}`);
    return w;
  }

  /** Records content as seen by a witness, at the given coherence (clamped to [0, 1]). */
  observe(content: unknown, witnessId: string, coherence: number, now: number): WitnessedContent {
    const w = this.require(witnessId);
    const c = Number.isFinite(coherence) ? Math.min(1, Math.max(0, coherence)) : 0;
    // A counter makes ids unique (the reference's timestamp ids collided within a microsecond).
    const contentId = `w_${witnessId}_${this.nextContent++}`;
    const wc: WitnessedContent = {
      contentId,
      rawContent: content,
      witnessId,
      witnessingMode: w.mode,
      coherenceAtWitnessing: c,
      transformation: null,
      metaObservations: [],
      timestamp: now,
    };
    this.contents.set(contentId, wc);
    if (this.contents.size > this.config.maxContents) this.contents.delete(this.contents.keys().next().value!);
    w.observationCount += 1;
    w.lastObserved = now;
    return wc;
  }

  /** Builds meta-observations and picks the transformation (strengthen / probe / maintain). */
  reflect(wc: WitnessedContent, witnessId: string, depth = this.config.reflectionDepth): WitnessedContent {
    const w = this.require(witnessId);
    const c = wc.coherenceAtWitnessing;
    const type: TransformationType = c > this.config.coherenceThreshold ? "strengthen" : c < PROBE_BELOW ? "probe" : "maintain";
    wc.metaObservations.push(`Observed coherence: ${c.toFixed(4)}`);
    wc.metaObservations.push(`Coherence level: ${c > 0.8 ? "high" : c > 0.5 ? "medium" : "low"}`);
    if (c > this.config.coherenceThreshold) wc.metaObservations.push("This observation strengthens identity coherence");
    for (let k = 1; k <= depth; k++) wc.metaObservations.push(`Reflection depth ${k}: ${type}`);
    wc.transformation ??= { type, coherenceBoost: BOOST[type](this.config.integrationRate) };
    w.reflectionCount += 1;
    return wc;
  }

  /** Decays the witness's contribution since its last integration, then grows it logistically. */
  integrate(wc: WitnessedContent, witnessId: string, now: number): number {
    const w = this.require(witnessId);
    this.decay(w, now);
    const boost = wc.transformation?.coherenceBoost ?? BOOST.maintain(this.config.integrationRate);
    const step = boost * this.config.integrationRate;
    w.coherenceContribution += step * (1 - w.coherenceContribution);
    w.integrationCount += 1;
    w.lastIntegrated = now;
    if (wc.coherenceAtWitnessing > this.config.coherenceThreshold) this.onStrongIntegration?.(wc);
    return w.coherenceContribution;
  }

  /** The contribution as of `now`, decay applied (a pure read). */
  contributionAt(witnessId: string, now: number): number {
    const w = this.require(witnessId);
    if (w.lastIntegrated === null) return w.coherenceContribution;
    return w.coherenceContribution * Math.exp(-this.config.decayPerSecond * Math.max(0, now - w.lastIntegrated));
  }

  private decay(w: WitnessState, now: number): void {
    if (w.lastIntegrated !== null) {
      w.coherenceContribution *= Math.exp(-this.config.decayPerSecond * Math.max(0, now - w.lastIntegrated));
    }
  }

  /** observe → reflect → integrate. */
  witness(content: unknown, witnessId: string, coherence: number, now: number): WitnessedContent {
    const wc = this.observe(content, witnessId, coherence, now);
    this.reflect(wc, witnessId);
    this.integrate(wc, witnessId, now);
    return wc;
  }

  coherenceReport(now: number): CoherenceReport {
    const ws = [...this.witnesses.values()];
    const contributions = ws.map((w) => this.contributionAt(w.witnessId, now));
    const total = contributions.reduce((x, y) => x + y, 0);
    return {
      totalObservations: ws.reduce((x, w) => x + w.observationCount, 0),
      totalReflections: ws.reduce((x, w) => x + w.reflectionCount, 0),
      totalIntegrations: ws.reduce((x, w) => x + w.integrationCount, 0),
      witnessCount: ws.length,
      witnessedContentCount: this.contents.size,
      averageContribution: ws.length > 0 ? total / ws.length : 0,
      totalContribution: total,
      witnesses: Object.fromEntries(ws.map((w, i) => [w.witnessId, { ...w, coherenceContribution: contributions[i]! }])),
    };
  }

  get contentCount(): number {
    return this.contents.size;
  }
}

export interface CoherenceReport {
  readonly totalObservations: number;
  readonly totalReflections: number;
  readonly totalIntegrations: number;
  readonly witnessCount: number;
  readonly witnessedContentCount: number;
  readonly averageContribution: number;
  readonly totalContribution: number;
  readonly witnesses: Record<string, WitnessState>;
}
