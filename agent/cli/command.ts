/**
 * A subcommand of `becomingone-agent`. Each lives in its own module under `commands/` and exports
 * `command`. `run` returns the process exit code: 0 success, 1 a negative answer (e.g. a proof that
 * does not verify), 2 bad usage or malformed input.
 */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** A usage or input error: printed as one line, exit code 2, never a stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
