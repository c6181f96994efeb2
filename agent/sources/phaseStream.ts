import { SeededRandom } from "../engine/prng.js";
import { phaseToken } from "../engine/phase-token.js";
import type { TokenQueue } from "../runtime/tokenQueue.js";
import type { StreamSource } from "./streamSource.js";

/**
 * A deterministic stream of phase tokens ("φ:x", read by the phase-token encoder): runs of
 * `coherentTokens` tokens whose phase advances by `step` radians per token, alternating with runs
 * of `scatterTokens` tokens of seeded uniform phases. `scatterTokens` 0: one endless coherent run.
 *
 * The default step (defaultPhaseStep) is the one that makes coherent runs coherent for the sync
 * rule in force: 0 under "fleet"; −2·3.14159/hz under "reference", where the Master pairs each input
 * with the oldest stored one and turns term i by its carrier e^{iω_M·i/f} (docs/engine.md, "Sync rules").
 */
export interface PhaseStreamParams {
  readonly step: number;
  readonly coherentTokens: number;
  readonly scatterTokens: number;
  readonly seed: number;
}

export const MASTER_OMEGA = 2 * 3.14159;

/**
 * The step that makes both transducers coherent: under the fleet sync rule the carriers turn once
 * per token, so a steady phase (0); under the reference rule −ω_M/f, which makes the Master coherent
 * (no step does both there at 20 Hz: docs/engine.md, "Sync rules").
 */
export function defaultPhaseStep(hz: number, rule: "reference" | "fleet"): number {
  return rule === "fleet" ? 0 : -MASTER_OMEGA / hz;
}

/** The i-th angle of the stream (radians, not wrapped); `rng` must be the stream's own, called in order. */
export class PhaseStream {
  private i = 0;
  private readonly rng: SeededRandom;

  constructor(private readonly params: PhaseStreamParams) {
    if (!Number.isFinite(params.step) || Math.abs(params.step) > 2 * Math.PI) throw new RangeError(`step must be a finite angle within ±2π, got ${params.step}`);
    for (const k of ["coherentTokens", "scatterTokens"] as const) {
      if (!(Number.isSafeInteger(params[k]) && params[k] >= 0 && params[k] <= 1e9)) throw new RangeError(`${k} must be an integer in 0..1e9, got ${params[k]}`);
    }
    if (params.coherentTokens === 0) throw new RangeError("coherentTokens must be ≥ 1");
    this.rng = new SeededRandom(params.seed >>> 0);
  }

  /** The next angle. Coherent runs continue the ramp where the previous run left it. */
  next(): number {
    const { step, coherentTokens, scatterTokens } = this.params;
    const i = this.i++;
    if (scatterTokens === 0) return (i * step) % (2 * Math.PI);
    const period = coherentTokens + scatterTokens;
    const inRun = i % period;
    if (inRun < coherentTokens) {
      // Coherent runs continue the ramp where the previous one left it (wrapped mod 2π, no growing error).
      return ((Math.floor(i / period) * coherentTokens + inRun) * step) % (2 * Math.PI);
    }
    return this.rng.nextUniform() * 2 * Math.PI - Math.PI;
  }

  /** The next token's text. */
  nextToken(): string {
    return phaseToken(this.next());
  }
}

/**
 * Feeds the stream into the queue without end, keeping the queue topped up (at most `chunk` tokens
 * an offer; waits for the low-water mark when full). Tokens are text ("φ:x"): the agent turns on the
 * phase-token encoder when this source is configured.
 */
export function phaseStreamSource(params: PhaseStreamParams, queue: TokenQueue, chunk = 64): StreamSource {
  const stream = new PhaseStream(params);
  let tokens = 0;
  let pauses = 0;
  let stopped = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  let carry: string[] = [];
  const fill = (): void => {
    while (!stopped) {
      if (carry.length === 0) carry = Array.from({ length: chunk }, () => stream.nextToken());
      const n = Math.min(carry.length, queue.free);
      if (n > 0 && queue.offer(carry.slice(0, n).map((text) => ({ type: "text" as const, text, source: "phase-stream" })))) {
        tokens += n;
        carry = carry.slice(n);
        continue;
      }
      // Full by count: wait for the low-water mark; refused otherwise (bytes): try again a tick later.
      pauses++;
      if (queue.free === 0) void queue.whenSpace().then(fill);
      else setTimeout(fill, 50).unref();
      return;
    }
  };
  queueMicrotask(fill);
  return {
    done,
    stats: () => ({ tokens, pauses, ended: stopped }),
    stop: () => {
      stopped = true;
      finish();
    },
  };
}
