/**
 * What each demo agent is fed: the one place that chooses it (docs/start.md describes the result).
 *
 * Today every agent reads the same short text about the system on standard input, one word per
 * token, each starting at another line; they differ in their token clock rate (`--hz`) and in their
 * mesh oscillator's natural frequency ω (the agent's `mesh.omega`, through a config file), so the
 * fleet starts spread out and the edge's mean field visibly pulls the phases together.
 * Streams that make the engine collapse (motifs, phase vectors) come with the engine work.
 */
export interface DemoFeed {
  /** Token clock rate, Hz. */
  readonly hz: number;
  /** Natural frequency of the agent's mesh oscillator, rad/s. */
  readonly omega: number;
  /** Lines written to the agent's stdin, round and round. */
  readonly lines: readonly string[];
  /** The first line for this agent, so neighbours are not word-for-word in step. */
  readonly firstLine: number;
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

export function demoFeed(n: number): DemoFeed {
  const i = n - 1;
  const hz = HZ[i % HZ.length]!;
  // ω spread symmetrically around 1 rad/s (±0.3 at most): inside what the fleet's coupling can lock.
  const omega = Number((1 + 0.3 * Math.sin(1 + i * 2.4)).toFixed(3));
  return {
    hz,
    omega,
    lines: SYSTEM_TEXT,
    firstLine: i % SYSTEM_TEXT.length,
    describe: `the system text, one word per token at ${hz} Hz; mesh ω = ${omega} rad/s`,
  };
}
