import type { JsonValue } from "../ledger/record.js";

/**
 * Folds the sync layer's dissipations into the periodic `witness.report` instead of sealing one
 * record per rejected input: with the reference's sync rule a misaligned pair rejects nearly every
 * input, and one record a second made ~90 % of an agent's verifiable log say the same thing.
 *
 * A dissipation is still sealed on its own (`sync.dissipation`) when it is **notable**:
 * - `first-in-epoch`: the first one since the agent started or was reset;
 * - `after-collapse`: the first one since the last `sync.collapse` (the collapse ended in misalignment);
 * - `onset`: the first one after at least `onsetRunTokens` consecutive accepted inputs (the pair fell
 *   out of a sustained alignment — a flickering stream that alternates does not qualify);
 * - `new-max` / `new-min`: its magnitude difference Δ = ||T_m| − |T_e|| lies beyond the largest /
 *   smallest Δ of this epoch's dissipations by more than `extremeMargin` (0.05): a new extreme,
 *   not a drift of rounding size.
 * and no notable record was sealed in the last `minIntervalMs` (1 s); otherwise it is folded too
 * (counted as `notableFolded`). Pure: no I/O, no clock; the caller passes wall time.
 */
export type NotableReason = "first-in-epoch" | "after-collapse" | "onset" | "new-max" | "new-min";

export interface DissipationEvent {
  readonly reason: string;
  readonly phaseDifference: number;
  readonly masterCoherence: number;
  readonly emissaryCoherence: number;
  readonly engineTime: number;
}

export interface FoldOptions {
  /** Consecutive accepted inputs before a dissipation counts as an `onset`; default 20 (1 s at 20 Hz). */
  readonly onsetRunTokens?: number;
  /** How far beyond the epoch's extremes Δ must lie to be a new extreme; default 0.05. */
  readonly extremeMargin?: number;
  /** At most one individually sealed dissipation per this many ms; default 1000. */
  readonly minIntervalMs?: number;
}

export interface FoldDecision {
  /** Seal this one individually, for these reasons; undefined: folded into the next report. */
  readonly notable: readonly NotableReason[] | undefined;
  /** Dissipations folded since the last individually sealed one (the record's `alsoDissipatedSinceLast`). */
  readonly alsoDissipatedSinceLast: number;
}

interface Range {
  min: number;
  max: number;
}

const widen = (r: Range | undefined, x: number): Range => (r ? { min: Math.min(r.min, x), max: Math.max(r.max, x) } : { min: x, max: x });
const round = (x: number) => Math.round(x * 1e6) / 1e6;
const rangeJson = (r: Range | undefined): JsonValue => (r ? { min: round(r.min), max: round(r.max) } : null);

export class DissipationFold {
  private readonly onsetRun: number;
  private readonly margin: number;
  private readonly intervalMs: number;
  // Epoch state (cleared by resetEpoch).
  private seenInEpoch = false;
  private sinceCollapse = false;
  private acceptedRun = 0;
  private epochRange: Range | undefined;
  private lastNotableMs = -Infinity;
  private foldedSinceSealed = 0;
  // Window state (cleared by takeReport).
  private count = 0;
  private sealedCount = 0;
  private notableFolded = 0;
  private byReason = new Map<string, number>();
  private byNotable = new Map<NotableReason, number>();
  private diff: Range | undefined;
  private masterC: Range | undefined;
  private emissaryC: Range | undefined;
  private firstMs: number | undefined;
  private lastMs: number | undefined;
  private firstEngine: number | undefined;
  private lastEngine: number | undefined;

  constructor(options: FoldOptions = {}) {
    this.onsetRun = options.onsetRunTokens ?? 20;
    this.margin = options.extremeMargin ?? 0.05;
    this.intervalMs = options.minIntervalMs ?? 1000;
    if (!(Number.isSafeInteger(this.onsetRun) && this.onsetRun >= 1)) throw new RangeError(`onsetRunTokens must be a positive integer, got ${this.onsetRun}`);
    if (!(this.margin >= 0 && Number.isFinite(this.margin))) throw new RangeError(`extremeMargin must be finite and ≥ 0, got ${this.margin}`);
    if (!(this.intervalMs >= 0 && Number.isFinite(this.intervalMs))) throw new RangeError(`minIntervalMs must be finite and ≥ 0, got ${this.intervalMs}`);
  }

  /** An input the sync layer accepted. */
  accepted(): void {
    this.acceptedRun++;
  }

  /** The sync layer entered collapse (a `sync.collapse` was sealed). */
  collapsed(): void {
    this.sinceCollapse = true;
  }

  /** A reset (or start): notability starts over; the window's counts stay for the next report. */
  resetEpoch(): void {
    this.seenInEpoch = false;
    this.sinceCollapse = false;
    this.acceptedRun = 0;
    this.epochRange = undefined;
  }

  dissipated(event: DissipationEvent, wallMs: number): FoldDecision {
    const reasons: NotableReason[] = [];
    const d = event.phaseDifference;
    if (!this.seenInEpoch) reasons.push("first-in-epoch");
    if (this.sinceCollapse) reasons.push("after-collapse");
    if (this.seenInEpoch && this.acceptedRun >= this.onsetRun) reasons.push("onset");
    if (this.epochRange && d > this.epochRange.max + this.margin) reasons.push("new-max");
    if (this.epochRange && d < this.epochRange.min - this.margin) reasons.push("new-min");
    this.seenInEpoch = true;
    this.sinceCollapse = false;
    this.acceptedRun = 0;
    this.epochRange = widen(this.epochRange, d);

    this.count++;
    this.byReason.set(event.reason, (this.byReason.get(event.reason) ?? 0) + 1);
    this.diff = widen(this.diff, d);
    this.masterC = widen(this.masterC, event.masterCoherence);
    this.emissaryC = widen(this.emissaryC, event.emissaryCoherence);
    this.firstMs ??= wallMs;
    this.lastMs = wallMs;
    this.firstEngine ??= event.engineTime;
    this.lastEngine = event.engineTime;

    if (reasons.length > 0 && wallMs - this.lastNotableMs >= this.intervalMs) {
      this.lastNotableMs = wallMs;
      for (const r of reasons) this.byNotable.set(r, (this.byNotable.get(r) ?? 0) + 1);
      this.sealedCount++;
      const also = this.foldedSinceSealed;
      this.foldedSinceSealed = 0;
      return { notable: reasons, alsoDissipatedSinceLast: also };
    }
    if (reasons.length > 0) this.notableFolded++;
    this.foldedSinceSealed++;
    return { notable: undefined, alsoDissipatedSinceLast: this.foldedSinceSealed };
  }

  /** Dissipations since the last report; false when there were none. */
  get pending(): boolean {
    return this.count > 0;
  }

  /** The window since the last report (for `witness.report`'s `dissipations`), then starts a new window. */
  takeReport(): JsonValue {
    const out: JsonValue =
      this.count === 0
        ? { count: 0, sealed: 0 }
        : {
            count: this.count,
            sealed: this.sealedCount,
            notableFolded: this.notableFolded,
            byReason: Object.fromEntries(this.byReason),
            notable: Object.fromEntries(this.byNotable),
            phaseDifference: rangeJson(this.diff),
            masterCoherence: rangeJson(this.masterC),
            emissaryCoherence: rangeJson(this.emissaryC),
            first: new Date(this.firstMs!).toISOString(),
            last: new Date(this.lastMs!).toISOString(),
            firstEngineTime: round(this.firstEngine!),
            lastEngineTime: round(this.lastEngine!),
          };
    this.count = 0;
    this.sealedCount = 0;
    this.notableFolded = 0;
    this.byReason = new Map();
    this.byNotable = new Map();
    this.diff = this.masterC = this.emissaryC = undefined;
    this.firstMs = this.lastMs = this.firstEngine = this.lastEngine = undefined;
    return out;
  }
}
