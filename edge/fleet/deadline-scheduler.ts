/**
 * One scheduler for every timer of the fleet, multiplexed onto the Durable Object's single alarm.
 * Each part registers a task that says when it is next due; the alarm runs every due task and sets
 * itself to the earliest next due. The planning is pure (`dueTaskNames`, `planAlarm`); the platform
 * alarm sits behind a two-method port.
 */

/** The next alarm is at least this far after the one running. */
export const ALARM_MIN_GAP_MS = 20;

export interface DeadlineTask {
  readonly name: string;
  /** When the task is next due (epoch ms; at or before `now` means due now), or null: nothing to do. */
  nextDueAt(now: number): number | null;
  run(now: number): void | Promise<void>;
}

/** The platform's alarm (workerd: `ctx.storage.getAlarm/setAlarm`). */
export interface AlarmPort {
  getAlarm(): Promise<number | null>;
  setAlarm(at: number): Promise<void>;
}

export interface TaskDue {
  readonly name: string;
  readonly at: number | null;
}

/** The tasks due at `now`, in registration order. */
export function dueTaskNames(dues: readonly TaskDue[], now: number): string[] {
  return dues.filter((d) => d.at !== null && d.at <= now).map((d) => d.name);
}

/**
 * The instant to set the alarm to, or null to leave it: the earliest due, never before
 * `now + minGapMs`, and only when it is earlier than the pending alarm (`current`, null if none).
 */
export function planAlarm(dues: readonly TaskDue[], now: number, options: { readonly minGapMs: number; readonly current: number | null }): number | null {
  const times = dues.flatMap((d) => (d.at === null ? [] : [d.at]));
  if (times.length === 0) return null;
  const at = Math.max(now + options.minGapMs, Math.min(...times));
  return options.current === null || options.current > at ? at : null;
}

export class DeadlineScheduler {
  readonly #port: AlarmPort;
  readonly #tasks: readonly DeadlineTask[];

  constructor(port: AlarmPort, tasks: readonly DeadlineTask[]) {
    this.#port = port;
    this.#tasks = tasks;
  }

  #dues(now: number): TaskDue[] {
    return this.#tasks.map((task) => ({ name: task.name, at: task.nextDueAt(now) }));
  }

  /**
   * The alarm: runs every due task (one failing does not stop the others), then sets the next alarm
   * strictly later than this run, and rethrows the first failure so the platform retries.
   */
  async onAlarm(now: number): Promise<void> {
    let failure: unknown;
    try {
      const due = new Set(dueTaskNames(this.#dues(now), now));
      for (const task of this.#tasks) {
        if (!due.has(task.name)) continue;
        try {
          await task.run(now);
        } catch (err) {
          failure ??= err;
        }
      }
    } finally {
      // Strictly later than this run: re-setting the alarm to an instant that may equal the one
      // being run let the runtime clear it after the handler, silently ending the chain. From the
      // alarm itself always set: the alarm being run may still read as pending.
      await this.#set(now, ALARM_MIN_GAP_MS, null);
    }
    if (failure !== undefined) throw failure;
  }

  /** After an event that may have made something due sooner: moves the alarm earlier if needed. */
  async reschedule(now: number): Promise<void> {
    const dues = this.#dues(now);
    if (planAlarm(dues, now, { minGapMs: 0, current: null }) === null) return;
    // Read, not cached: the runtime owns the alarm (it deletes it after a run), and a stale cache
    // could leave the object without one.
    await this.#set(now, 0, await this.#port.getAlarm(), dues);
  }

  async #set(now: number, minGapMs: number, current: number | null, dues = this.#dues(now)): Promise<void> {
    const at = planAlarm(dues, now, { minGapMs, current });
    if (at !== null) await this.#port.setAlarm(at);
  }
}

/**
 * A task run at most every `intervalMs` while `active()` holds. The last run is remembered in memory
 * only: after a wake-up the task is due at once, which for housekeeping costs one early run.
 */
export function cadenceTask(name: string, intervalMs: number, active: () => boolean, run: (now: number) => void | Promise<void>): DeadlineTask {
  let lastRunAt = 0;
  return {
    name,
    nextDueAt: () => (active() ? lastRunAt + intervalMs : null),
    run: async (now) => {
      lastRunAt = now;
      await run(now);
    },
  };
}
