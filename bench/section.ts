/** One table of `npm run bench`: rows of measured values beside their targets. */
export interface BenchRow {
  readonly metric: string;
  readonly value: string;
  readonly target?: string;
  /** The reference implementation's figure, where the brief gives one. */
  readonly reference?: string;
  /** undefined when the row has no target. */
  readonly pass?: boolean;
}

export interface BenchSection {
  readonly title: string;
  readonly rows: readonly BenchRow[];
}
