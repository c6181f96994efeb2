import type { JsonValue, RecordKind } from "../ledger/record.js";
import type { QueuedToken } from "./tokenQueue.js";

/** Something worth sealing, produced by one engine step. */
export interface SealCandidate {
  readonly kind: RecordKind;
  readonly payload: JsonValue;
}

/** What one token did to the engine. */
export interface CoreStepResult {
  /** Overall coherence after the step (sync coherence), in [0, 1]. */
  readonly coherence: number;
  readonly collapsed: boolean;
  /** True when the sync layer dissipated (rejected) this input. */
  readonly dissipated: boolean;
  readonly seals: readonly SealCandidate[];
}

/** The /coherence view of the engine. */
export interface CoherenceView {
  readonly master: JsonValue;
  readonly emissary: JsonValue;
  readonly sync: JsonValue;
  readonly witness?: JsonValue;
  readonly coherence: number;
  readonly collapsed: boolean;
}

/**
 * The engine as the tick pipeline drives it: Master, Emissary, the sync layer, witnessing and
 * temporal memory behind one synchronous step per token (dt = 1/f exactly). Implemented over
 * agent/engine by `EngineCore`.
 */
export interface PhaseCore {
  step(token: QueuedToken, dtSeconds: number): CoreStepResult;
  /** Optional: `token` is queued and will be stepped soon (lets an encoder fetch ahead); must return at once. */
  prefetch?(token: QueuedToken): void;
  /** A periodic witnessing report (sealed as `witness.report`). */
  witnessReport(): JsonValue;
  /** The engine part of a periodic state digest. */
  digest(): JsonValue;
  view(): CoherenceView;
  /** Back to the initial state (POST /reset). */
  reset(): void;
}
