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
  /** The alarm this object last set or read, until it runs (undefined: unknown, read it). */
  #pendingAt: number | undefined;

  constructor(port: AlarmPort, tasks: readonly DeadlineTask[]) {
    this.#port = port;
    this.#tasks = tasks;
  }

  #dues(now: number, only?: readonly string[]): TaskDue[] {
    const tasks = only === undefined ? this.#tasks : this.#tasks.filter((task) => only.includes(task.name));
    return tasks.map((task) => ({ name: task.name, at: task.nextDueAt(now) }));
  }

  /**
   * The alarm: runs every due task (one failing does not stop the others), then sets the next alarm
   * strictly later than this run, and rethrows the first failure so the platform retries.
   */
  async onAlarm(now: number): Promise<void> {
    this.#pendingAt = undefined;
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

  /**
   * After an event that may have made something due sooner: moves the alarm earlier if needed.
   * `only`: the tasks the event can have moved (the others keep the deadlines the alarm was set for).
   */
  async reschedule(now: number, only?: readonly string[]): Promise<void> {
    const dues = this.#dues(now, only);
    const wanted = planAlarm(dues, now, { minGapMs: 0, current: null });
    if (wanted === null) return;
    // An alarm this object set and that has not run yet (onAlarm forgets it) is early enough; one
    // already due will run. Under load this skipped a storage read and write per message.
    if (this.#pendingAt !== undefined && this.#pendingAt <= wanted) return;
    // Otherwise read: the runtime owns the alarm (it deletes it after a run), and a stale belief
    // could leave the object without one.
    await this.#set(now, 0, await this.#port.getAlarm(), dues);
  }

  async #set(now: number, minGapMs: number, current: number | null, dues = this.#dues(now)): Promise<void> {
    const at = planAlarm(dues, now, { minGapMs, current });
    if (at !== null) await this.#port.setAlarm(at);
    this.#pendingAt = at ?? current ?? undefined;
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
