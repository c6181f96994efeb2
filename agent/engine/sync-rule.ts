/**
 * Sync rules: how Master, Emissary and the sync layer are tuned to the token clock.
 *
 * "reference" is the reference's sync rule, unchanged: the transducers' own carriers (ω_M =
 * 2·3.14159, ω_E = 2π·10) and histories (120 and 1,000 samples), and a dissipated input is rejected
 * by the Master. At 20 Hz it never collapses: the Emissary's carrier turns π per token while the
 * Master needs phases advancing by −ω_M/f, so no stream makes both coherent, and a frozen Master
 * never re-aligns (docs/engine.md, "Sync rules").
 *
 * "fleet" changes four things, nothing inside the engine (ENGINE.md §1–§7 stay bit-exact):
 * 1. both carriers turn exactly once per token (ω = 2π·f): sampled on the token clock they vanish,
 *    so each transducer measures the stream's own phase consistency and one stream — a steady
 *    phase — can make both coherent;
 *    Both run on the token clock (ENGINE.md token_clock at f), which is what the agent's engine
 *    time is: the same terms as the wall clock on the token grid, and the Master's re-pairing with
 *    its oldest sample comes from the pair table instead of 120 × 384 phasors rebuilt per input;
 * 2. the Emissary keeps about ten seconds of tokens (100·round(hz/10) samples: 7–12.5 s at 12–26 Hz) (the reference's 1,000 samples are ten seconds at its
 *    own 100 Hz, 50 s at 20 Hz: slower than the Master's 6 s);
 * 3. the sync layer's verdict does not starve the Master: both transducers integrate every input,
 *    and a dissipated input is only refused by the sync layer (the agent does not witness it);
 * 4. the layer does not collapse before both transducers hold their warm-up (minSamples) of
 *    inputs (two fresh engines hold one term each, |T| = 1, whose arguments agree).
 */
import type { TransducerConfig } from "./transducer.js";

export type SyncRule = "reference" | "fleet";

export const SYNC_RULES: readonly SyncRule[] = ["reference", "fleet"];

/** Seconds of tokens the Emissary keeps under the fleet rule. */
export const FLEET_EMISSARY_SECONDS = 10;

export interface TransducerOverrides {
  readonly master: Partial<TransducerConfig>;
  readonly emissary: Partial<TransducerConfig>;
  /** TransducerOptions.tokenClockHz for both: the fleet rule runs them on the token clock. */
  readonly tokenClockHz?: number;
}

/**
 * The Master and Emissary configuration a rule needs at token rate `hz`: nothing for "reference";
 * for "fleet", the token clock at hz, ω = 2π·hz for both and an Emissary history of about ten seconds of tokens
 * (100·k samples with k = round(hz/10) within 1…10: 200 at 20 Hz, the reference's 1,000 at 100 Hz).
 */
export function transducerOverrides(rule: SyncRule, hz: number): TransducerOverrides {
  if (!(hz > 0) || !Number.isFinite(hz)) throw new RangeError(`hz must be a finite number > 0, got ${hz}`);
  if (rule === "reference") return { master: {}, emissary: {} };
  const omega = 2 * Math.PI * hz;
  const multiplier = Math.min(10, Math.max(1, Math.round((FLEET_EMISSARY_SECONDS * hz) / 100)));
  return { master: { omega }, emissary: { omega, historyMultiplier: multiplier }, tokenClockHz: hz };
}
