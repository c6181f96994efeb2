import { LIMITS } from "../../shared/protocol/index.js";
import { readMeta, writeMeta } from "./fleet-identity.js";
import type { SqlDatabase } from "./sql-database.js";

/** The fleet's Lamport clock, kept in `meta` so it survives eviction. */
export class FleetClock {
  readonly #sql: SqlDatabase;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  /** The stored value (may exceed LIMITS.lamportMax if written before the maximum existed). */
  value(): number {
    return Number(readMeta(this.#sql, "lamport") ?? "0");
  }

  set(value: number): void {
    writeMeta(this.#sql, "lamport", String(value));
  }

  /** A tick for a broadcast; the clock never passes the protocol maximum. */
  tick(): number {
    const next = Math.min(this.value() + 1, LIMITS.lamportMax);
    this.set(next);
    return next;
  }
}
