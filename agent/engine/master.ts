/** The Master transducer: slow and contemplative (τ = 60 s over up to an hour). */
import { PRODUCT_MIN_SAMPLES } from "./config.js";
import { type IntegrationResult, Transducer, type TransducerConfig, type TransducerOptions } from "./transducer.js";

export const DEFAULT_MASTER_CONFIG: TransducerConfig = {
  tauScale: 60.0,
  tauMax: 3600.0,
  // The reference's 2·3.14159, kept for compatibility (not 2π).
  omega: 2 * 3.14159,
  coherenceThreshold: 0.9,
  witnessInterval: 0.1,
  historyMultiplier: 2,
  minSamples: PRODUCT_MIN_SAMPLES,
  noiseStd: 0.005,
  seed: 1,
};

export class MasterTransducer extends Transducer {
  readonly type = "MASTER" as const;
  protected readonly trendWindow = 10;

  constructor(config: Partial<TransducerConfig> = {}, options: TransducerOptions = {}, name = "master") {
    super(name, { ...DEFAULT_MASTER_CONFIG, ...config }, options);
  }

  /** Integrates an input; witnesses on the interval or on collapse. */
  integrate(text: string, timestamp?: number, metadata?: Readonly<Record<string, unknown>>): IntegrationResult {
    return this.integrateText(text, timestamp, metadata, () => false).result;
  }
}
