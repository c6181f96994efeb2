/** The Emissary transducer: fast and responsive (τ = 10 ms over a second); acts when coherent. */
import { PRODUCT_MIN_SAMPLES } from "./config.js";
import { type IntegrationResult, Transducer, type TransducerConfig, type TransducerOptions } from "./transducer.js";

export const DEFAULT_EMISSARY_CONFIG: TransducerConfig = {
  tauScale: 0.01,
  tauMax: 1.0,
  omega: 2 * Math.PI * 10,
  coherenceThreshold: 0.7,
  witnessInterval: 0.001,
  historyMultiplier: 10,
  minSamples: PRODUCT_MIN_SAMPLES,
  noiseStd: 0.005,
  seed: 2,
};

/** Acts when collapsed or when coherence ≥ this fraction of I_c. */
export const ACTION_FRACTION = 0.8;

export interface EmissaryAction {
  readonly type: "response";
  readonly inputLength: number;
  readonly coherenceLevel: number;
  readonly phaseAngle: number;
  readonly timestamp: number;
  readonly action: string;
}

export interface EmissaryResult extends IntegrationResult {
  readonly action: EmissaryAction | null;
}

const ACTIONS_LIMIT = 10000;

export class EmissaryTransducer extends Transducer {
  readonly type = "EMISSARY" as const;
  protected readonly trendWindow = 50;
  readonly actions: EmissaryAction[] = [];

  constructor(config: Partial<TransducerConfig> = {}, options: TransducerOptions = {}, name = "emissary") {
    super(name, { ...DEFAULT_EMISSARY_CONFIG, ...config }, options);
  }

  /** Integrates an input and produces an action when collapsed or c ≥ 0.8·I_c. */
  respond(text: string, timestamp?: number, metadata?: Readonly<Record<string, unknown>>): EmissaryResult {
    const acts = (c: number, collapsed: boolean) => collapsed || c >= ACTION_FRACTION * this.config.coherenceThreshold;
    const { result, state } = this.integrateText(text, timestamp, metadata, acts);
    let action: EmissaryAction | null = null;
    if (acts(result.coherence, result.collapsed)) {
      action = {
        type: "response",
        inputLength: [...text].length,
        coherenceLevel: result.coherence,
        phaseAngle: state.eigenPhase,
        timestamp: result.timestamp,
        action: `Emissary response at coherence=${result.coherence.toFixed(3)}`,
      };
      this.actions.push(action);
      if (this.actions.length > (this.logLimit ?? ACTIONS_LIMIT)) this.actions.shift();
    }
    return { ...result, action };
  }

  override reset(at?: number): void {
    super.reset(at);
    this.actions.length = 0;
  }

  override snapshot(): Record<string, unknown> {
    return { ...super.snapshot(), actionsCount: this.actions.length };
  }
}
