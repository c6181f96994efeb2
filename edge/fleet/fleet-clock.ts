import { LIMITS } from "../../shared/protocol/index.js";
import { readMeta, writeMeta } from "./fleet-identity.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * The fleet's Lamport clock, kept in `meta` so it survives eviction. Absorbing an agent's clock is
 * staged in memory (`flush` writes it, with the agent rows); a broadcast's tick is written at once.
 * After an eviction the clock is at most one flush behind what it absorbed, which only makes the
 * causal rules stricter for a second (agents merge with max, so none sees time go back).
 */
export class FleetClock {
  readonly #sql: SqlDatabase;
  #value: number | undefined;
  #staged = false;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  /** The value (the stored one may exceed LIMITS.lamportMax if written before the maximum existed). */
  value(): number {
    this.#value ??= Number(readMeta(this.#sql, "lamport") ?? "0");
    return this.#value;
  }

  /** Moves the clock in memory; SQLite gets it at the next flush or tick. */
  set(value: number): void {
    this.#value = value;
    this.#staged = true;
  }

  /** A tick for a broadcast, written now; the clock never passes the protocol maximum. */
  tick(): number {
    const next = Math.min(this.value() + 1, LIMITS.lamportMax);
    this.#value = next;
    this.#write();
    return next;
  }

  /** Whether a value waits for the flush. */
  get staged(): boolean {
    return this.#staged;
  }

  /** Writes a staged value. */
  flush(): void {
    if (this.#staged) this.#write();
  }

  #write(): void {
    writeMeta(this.#sql, "lamport", String(this.#value));
    this.#staged = false;
  }
}
