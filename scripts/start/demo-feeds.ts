/**
 * What each demo agent is fed: the one place that chooses it (docs/start.md describes the result).
 *
 * Odd agents run the generated phase stream (agent/sources/phaseStream.ts): 600 tokens of one steady
 * phase, then 600 scattered ones, round and round. Under the fleet sync rule a steady run makes the
 * Master and the Emissary cohere, so each such agent seals a `sync.collapse` and a
 * `memory.signature` (and the edge sends `sync.collapse`) about once a minute (docs/engine.md, "Sync
 * rules"). Even agents read a short text about the system on standard input, one word per token:
 * text never collapses, the contrast an operator should see. Agents differ in their token clock rate
 * (`--hz`), in their mesh oscillator's natural frequency ω and in its starting phase θ₀, so the
 * fleet starts spread over the circle and the edge's mean field visibly pulls the phases together.
 */
export type DemoSource =
  | { readonly kind: "text"; readonly lines: readonly string[]; readonly firstLine: number }
  | { readonly kind: "phase"; readonly coherentTokens: number; readonly scatterTokens: number; readonly seed: number };

export interface DemoFeed {
  /** Token clock rate, Hz. */
  readonly hz: number;
  /** Natural frequency of the agent's mesh oscillator, rad/s. */
  readonly omega: number;
  /** The mesh oscillator's phase at start, rad. */
  readonly theta0: number;
  readonly source: DemoSource;
  /** One line for the docs and the console. */
  readonly describe: string;
}

const SYSTEM_TEXT = `the kairos engine listens to a stream of tokens and keeps two clocks one fast one slow
when they agree the field collapses into a memory and the agent seals it into its ledger
every record is signed by the device key and sent to the edge which keeps one global log
anyone can check that a record is in the log and that the log only ever grew
the fleet couples its phases through a mean field so many small devices keep time together`.split("\n");

/** Rates around the default 20 Hz, so no two neighbours tick alike. */
const HZ = [20, 16, 24, 18, 22, 14, 26, 12];

/** Starting phases 0.55 rad apart: eight agents span about 220°, so r starts near 0.37 (8 agents), well short of locked. */
const THETA0_STEP = 0.55;

export function demoFeed(n: number): DemoFeed {
  const i = n - 1;
  const hz = HZ[i % HZ.length]!;
  // ω spread symmetrically around 1 rad/s (±0.3 at most): inside what the fleet's coupling can lock.
  const omega = Number((1 + 0.3 * Math.sin(1 + i * 2.4)).toFixed(3));
  const theta0 = Number(((i * THETA0_STEP) % (2 * Math.PI)).toFixed(3));
  const mesh = `mesh ω = ${omega} rad/s, θ₀ = ${theta0} rad`;
  if (n % 2 === 1) {
    const source = { kind: "phase", coherentTokens: 600, scatterTokens: 600, seed: n } as const;
    return { hz, omega, theta0, source, describe: `the phase stream, 600 steady / 600 scattered tokens at ${hz} Hz (a collapse about every ${Math.round(1200 / hz)} s); ${mesh}` };
  }
  return {
    hz,
    omega,
    theta0,
    source: { kind: "text", lines: SYSTEM_TEXT, firstLine: i % SYSTEM_TEXT.length },
    describe: `the system text, one word per token at ${hz} Hz (never collapses); ${mesh}`,
  };
}
