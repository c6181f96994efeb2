/**
 * The synchronisation layer between Master and Emissary (ENGINE.md §9): compares the magnitudes of
 * their T_tau, averages them into T_sync, collapses (per call, not latched) when |T_sync|² ≥ 0.80,
 * damps T_sync by 0.995 while collapsed, and dissipates input offered while the two are further
 * apart than twice the alignment threshold: the Master rejects it, the record keeps the reason.
 * Under the "fleet" rule (sync-rule.ts) both transducers integrate a dissipated input (only the
 * layer refuses it) and the layer does not collapse before both have their warm-up of inputs.
 */
import { type Complex, complexAbs, complexArg } from "./complex.js";
import type { EmissaryResult, EmissaryTransducer } from "./emissary.js";
import type { MasterTransducer } from "./master.js";
import type { SyncRule } from "./sync-rule.js";
import type { IntegrationResult } from "./transducer.js";
import { VectorClock } from "./vector-clock.js";

export interface SyncConfig {
  /** Aligned iff ||T_m| − |T_e|| ≤ this. */
  readonly phaseThreshold: number;
  readonly collapseThreshold: number;
  readonly dampening: number;
  /** "reference" (default): the reference's rule; "fleet": see sync-rule.ts. */
  readonly rule: SyncRule;
}

export const DEFAULT_SYNC_CONFIG: SyncConfig = { phaseThreshold: 0.1, collapseThreshold: 0.8, dampening: 0.995, rule: "reference" };

export const DISSIPATION_REASON = "Phase misalignment beyond threshold";

export interface Dissipation {
  readonly timestamp: number;
  readonly phaseDifference: number;
  readonly masterCoherence: number;
  readonly emissaryCoherence: number;
  readonly reason: string;
  /** Length of the rejected input (absent for a dissipation found by a plain synchronize). */
  readonly inputLength?: number;
}

export interface SyncRecord {
  readonly timestamp: number;
  readonly causalAnchor: Record<string, number>;
  readonly tMaster: [number, number];
  readonly tEmissary: [number, number];
  readonly tSync: [number, number];
  readonly synchronizedCoherence: number;
  /** ||T_m| − |T_e||, the reference's "phase difference" (a difference of magnitudes). */
  readonly phaseDifference: number;
  /** |arg T_m − arg T_e| wrapped to [0, π]: the actual phase difference (new). */
  readonly phaseAngleDifference: number;
  readonly aligned: boolean;
  readonly collapsed: boolean;
  readonly dissipated: boolean;
  readonly masterIntegrations: number;
  readonly emissaryIntegrations: number;
}

export type OfferResult =
  | { readonly accepted: true; readonly master: IntegrationResult; readonly emissary: EmissaryResult; readonly sync: SyncRecord }
  | {
      readonly accepted: false;
      readonly dissipation: Dissipation;
      /** Present under the "fleet" rule, where the Master integrates a dissipated input too. */
      readonly master?: IntegrationResult;
      readonly emissary: EmissaryResult;
      readonly sync: SyncRecord;
    };

const HISTORY_LIMIT = 10000;
const DISSIPATION_LIMIT = 1000;

export class SyncLayer {
  readonly config: SyncConfig;
  readonly vectorClock: VectorClock;
  private tSyncValue: Complex = { re: 0, im: 0 };
  private coherenceValue = 0;
  private difference = 0;
  private alignedFlag = false;
  private collapsedFlag = false;
  private collapseTime: number | null = null;
  readonly history: SyncRecord[] = [];
  readonly dissipations: Dissipation[] = [];

  private readonly historyLimit: number;
  private readonly dissipationLimit: number;

  /** @param limits.logLimit entries kept of `history` and `dissipations` (default: the reference's 10,000 and 1,000) */
  constructor(
    readonly master: MasterTransducer,
    readonly emissary: EmissaryTransducer,
    config: Partial<SyncConfig> = {},
    readonly name = "sync-layer",
    limits: { readonly logLimit?: number } = {},
  ) {
    if (limits.logLimit !== undefined && !(Number.isSafeInteger(limits.logLimit) && limits.logLimit >= 1)) {
      throw new RangeError(`${name}: logLimit must be a positive integer, got ${limits.logLimit}`);
    }
    this.historyLimit = limits.logLimit ?? HISTORY_LIMIT;
    this.dissipationLimit = limits.logLimit ?? DISSIPATION_LIMIT;
    this.config = { ...DEFAULT_SYNC_CONFIG, ...config };
    if (this.config.rule !== "reference" && this.config.rule !== "fleet") {
      throw new RangeError(`${name}: rule must be "reference" or "fleet", got ${JSON.stringify(this.config.rule)}`);
    }
    this.vectorClock = new VectorClock(name);
  }

  get tSync(): Complex {
    return this.tSyncValue;
  }
  get coherence(): number {
    return this.coherenceValue;
  }
  get phaseDifference(): number {
    return this.difference;
  }
  get aligned(): boolean {
    return this.alignedFlag;
  }
  get collapsed(): boolean {
    return this.collapsedFlag;
  }
  get collapseTimestamp(): number | null {
    return this.collapseTime;
  }

  /** One synchronisation at time `now` (epoch seconds). Reads each engine's T once (reads are pure). */
  synchronize(now: number): SyncRecord {
    const tm = this.master.engine.tTau;
    const te = this.emissary.engine.tTau;
    const diff = Math.abs(complexAbs(tm) - complexAbs(te));
    const aligned = diff <= this.config.phaseThreshold;
    let tSync: Complex = { re: (tm.re + te.re) / 2, im: (tm.im + te.im) / 2 };
    let c = tSync.re * tSync.re + tSync.im * tSync.im;
    const collapsed = c >= this.config.collapseThreshold && (this.config.rule === "reference" || this.warmedUp());
    if (collapsed && !this.collapsedFlag) this.collapseTime = now;
    const dissipated = !aligned && diff > 2 * this.config.phaseThreshold;
    if (dissipated) {
      this.recordDissipation({
        timestamp: now,
        phaseDifference: diff,
        masterCoherence: tm.re * tm.re + tm.im * tm.im,
        emissaryCoherence: te.re * te.re + te.im * te.im,
        reason: DISSIPATION_REASON,
      });
    }
    if (collapsed) {
      tSync = { re: tSync.re * this.config.dampening, im: tSync.im * this.config.dampening };
      c = tSync.re * tSync.re + tSync.im * tSync.im;
    }
    this.vectorClock.increment();
    this.tSyncValue = tSync;
    this.coherenceValue = c;
    this.difference = diff;
    this.alignedFlag = aligned;
    this.collapsedFlag = collapsed;
    let angle = Math.abs(complexArg(tm) - complexArg(te));
    if (angle > Math.PI) angle = 2 * Math.PI - angle;
    const record: SyncRecord = {
      timestamp: now,
      causalAnchor: this.vectorClock.snapshot(),
      tMaster: [tm.re, tm.im],
      tEmissary: [te.re, te.im],
      tSync: [tSync.re, tSync.im],
      synchronizedCoherence: c,
      phaseDifference: diff,
      phaseAngleDifference: angle,
      aligned,
      collapsed,
      dissipated,
      masterIntegrations: this.master.engine.integrationCount,
      emissaryIntegrations: this.emissary.engine.integrationCount,
    };
    this.history.push(record);
    if (this.history.length > this.historyLimit) this.history.shift();
    return record;
  }

  /**
   * Offers an input to both transducers. When, synchronised just before, the two are misaligned
   * beyond twice the threshold, the input is dissipated and recorded with its reason. Reference
   * rule: the Master (the slow, identity-bearing side) does not integrate it; the Emissary still
   * responds (rejecting for both would freeze both states and dissipate every later input too).
   * Fleet rule: both integrate it, so neither freezes out of reach of the other; only the layer
   * refuses it (`accepted: false`).
   */
  offer(text: string, now: number): OfferResult {
    const before = this.synchronize(now);
    if (before.dissipated) {
      const dissipation = { ...this.dissipations[this.dissipations.length - 1]!, inputLength: [...text].length };
      this.dissipations[this.dissipations.length - 1] = dissipation;
      if (this.config.rule === "fleet") {
        // The layer refuses the input; both states still follow the stream, so neither can freeze
        // out of reach of the other (under the reference rule a frozen Master never re-aligns).
        const master = this.master.integrate(text, now);
        const emissary = this.emissary.respond(text, now);
        return { accepted: false, dissipation, master, emissary, sync: this.synchronize(now) };
      }
      const emissary = this.emissary.respond(text, now);
      return { accepted: false, dissipation, emissary, sync: this.synchronize(now) };
    }
    const master = this.master.integrate(text, now);
    const emissary = this.emissary.respond(text, now);
    return { accepted: true, master, emissary, sync: this.synchronize(now) };
  }

  /** Fleet rule: both transducers hold their warm-up of inputs (a fresh pair's single terms agree). */
  private warmedUp(): boolean {
    return (
      this.master.engine.integrationCount >= this.master.config.minSamples && this.emissary.engine.integrationCount >= this.emissary.config.minSamples
    );
  }

  /** Merges a peer's vector clock (element-wise max, then our tick). */
  mergeClock(other: Readonly<Record<string, number>>): void {
    this.vectorClock.merge(other);
  }

  private recordDissipation(d: Dissipation): void {
    this.dissipations.push(d);
    if (this.dissipations.length > this.dissipationLimit) this.dissipations.shift();
  }

  reset(): void {
    this.tSyncValue = { re: 0, im: 0 };
    this.coherenceValue = 0;
    this.difference = 0;
    this.alignedFlag = false;
    this.collapsedFlag = false;
    this.collapseTime = null;
    this.history.length = 0;
    this.dissipations.length = 0;
  }

  snapshot(): Record<string, unknown> {
    return {
      name: this.name,
      type: "SYNCHRONIZATION",
      rule: this.config.rule,
      tSync: [this.tSyncValue.re, this.tSyncValue.im],
      coherence: this.coherenceValue,
      phaseDifference: this.difference,
      aligned: this.alignedFlag,
      collapsed: this.collapsedFlag,
      collapseTimestamp: this.collapseTime,
      vectorClock: this.vectorClock.snapshot(),
      syncHistoryLength: this.history.length,
      dissipationsCount: this.dissipations.length,
    };
  }
}
