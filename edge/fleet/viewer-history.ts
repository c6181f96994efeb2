import { LIVE_HISTORY_MS, LIVE_HISTORY_STEP_MS, type HistorySample } from "../../shared/dashboard/index.js";
import type { SqlDatabase } from "./sql-database.js";

/** A sample may come this much early (the field's cadence jitters around the second). */
const STEP_SLACK_MS = 100;

/**
 * The mean field's (r, ψ) over the last LIVE_HISTORY_MS, one sample a second, in SQLite
 * (`viewer_history`) so a snapshot after an eviction still has it. Pruned at each sample: at most
 * about 670 rows.
 */
export class ViewerHistory {
  readonly #sql: SqlDatabase;
  #lastAt: number | undefined;

  constructor(sql: SqlDatabase) {
    this.#sql = sql;
  }

  /** Keeps (r, ψ) at `now` if a second has passed since the last sample; returns whether it did. */
  sample(now: number, r: number, psi: number): boolean {
    this.#lastAt ??= this.#sql.exec<{ at: number | null }>(`SELECT MAX(ms) AS at FROM viewer_history`).one().at ?? 0;
    if (now - this.#lastAt < LIVE_HISTORY_STEP_MS - STEP_SLACK_MS) return false;
    if (!Number.isFinite(r) || !Number.isFinite(psi)) return false;
    this.#sql.exec(`INSERT OR REPLACE INTO viewer_history (ms, r, psi) VALUES (?, ?, ?)`, now, r, psi);
    this.#sql.exec(`DELETE FROM viewer_history WHERE ms < ?`, now - LIVE_HISTORY_MS);
    this.#lastAt = now;
    return true;
  }

  /** The samples of the last LIVE_HISTORY_MS before `now`, oldest first. */
  recent(now: number): HistorySample[] {
    return this.#sql
      .exec<{ ms: number; r: number; psi: number }>(`SELECT ms, r, psi FROM viewer_history WHERE ms >= ? ORDER BY ms`, now - LIVE_HISTORY_MS)
      .toArray()
      .map((row) => [row.ms, row.r, row.psi] as const);
  }
}
