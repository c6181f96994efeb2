import { describe, expect, it } from "vitest";
import { ALARM_MIN_GAP_MS, cadenceTask, DeadlineScheduler, dueTaskNames, planAlarm, type AlarmPort, type DeadlineTask } from "../../edge/fleet/deadline-scheduler.js";

/** The platform's single alarm, as workerd keeps it: one instant or none. */
class OneAlarm implements AlarmPort {
  at: number | null = null;
  sets: number[] = [];
  async getAlarm(): Promise<number | null> {
    return this.at;
  }
  async setAlarm(at: number): Promise<void> {
    this.at = at;
    this.sets.push(at);
  }
}

describe("deadline planning (pure)", () => {
  const dues = [
    { name: "field", at: 1_500 },
    { name: "offline", at: null },
    { name: "checkpoint", at: 1_000 },
  ];

  it("finds the due tasks in registration order", () => {
    expect(dueTaskNames(dues, 999)).toEqual([]);
    expect(dueTaskNames(dues, 1_000)).toEqual(["checkpoint"]);
    expect(dueTaskNames(dues, 2_000)).toEqual(["field", "checkpoint"]);
  });

  it("sets the alarm to the earliest due, never before now + the gap, and only earlier than the pending one", () => {
    expect(planAlarm(dues, 0, { minGapMs: 0, current: null })).toBe(1_000);
    expect(planAlarm(dues, 1_200, { minGapMs: 0, current: null })).toBe(1_200);
    expect(planAlarm(dues, 1_200, { minGapMs: ALARM_MIN_GAP_MS, current: null })).toBe(1_220);
    expect(planAlarm(dues, 0, { minGapMs: 0, current: 900 })).toBeNull();
    expect(planAlarm(dues, 0, { minGapMs: 0, current: 1_000 })).toBeNull();
    expect(planAlarm(dues, 0, { minGapMs: 0, current: 1_001 })).toBe(1_000);
    expect(planAlarm([{ name: "idle", at: null }], 0, { minGapMs: 0, current: null })).toBeNull();
    expect(planAlarm([], 0, { minGapMs: 0, current: null })).toBeNull();
  });
});

describe("DeadlineScheduler", () => {
  it("runs only the due tasks, carries on past a failing one, then sets the alarm strictly later and rethrows", async () => {
    const alarm = new OneAlarm();
    const ran: string[] = [];
    const task = (name: string, at: number | null, fail = false): DeadlineTask => ({
      name,
      nextDueAt: () => at,
      run: () => {
        ran.push(name);
        if (fail) throw new Error(`${name} failed`);
      },
    });
    const scheduler = new DeadlineScheduler(alarm, [task("a", 100, true), task("b", 5_000), task("c", 50), task("d", null)]);
    alarm.at = 100;
    await expect(scheduler.onAlarm(100)).rejects.toThrow("a failed");
    expect(ran).toEqual(["a", "c"]);
    // a and c still say 100 / 50: the next alarm is the gap after this run, never this instant.
    expect(alarm.at).toBe(100 + ALARM_MIN_GAP_MS);
  });

  it("outside the alarm moves the pending alarm earlier only, and sets none when nothing is due", async () => {
    const alarm = new OneAlarm();
    let due: number | null = 5_000;
    const scheduler = new DeadlineScheduler(alarm, [{ name: "x", nextDueAt: () => due, run: () => {} }]);
    await scheduler.reschedule(1_000);
    expect(alarm.at).toBe(5_000);
    due = 8_000;
    await scheduler.reschedule(1_000);
    expect(alarm.at).toBe(5_000);
    due = 3_000;
    await scheduler.reschedule(1_000);
    expect(alarm.at).toBe(3_000);
    due = null;
    await scheduler.reschedule(1_000);
    expect(alarm.sets).toEqual([5_000, 3_000]);
  });

  it("a replan limited to some tasks asks only those, and still moves the alarm earlier only", async () => {
    const alarm = new OneAlarm();
    const asked: string[] = [];
    const task = (name: string, at: number) => ({ name, nextDueAt: () => (asked.push(name), at), run: () => {} });
    const scheduler = new DeadlineScheduler(alarm, [task("field", 2_000), task("checkpoint", 4_000)]);
    await scheduler.reschedule(1_000);
    expect(alarm.at).toBe(2_000);
    asked.length = 0;
    await scheduler.reschedule(1_000, ["checkpoint"]);
    expect(asked).toEqual(["checkpoint"]);
    expect(alarm.sets).toEqual([2_000]);
  });

  it("a cadence task runs at most every interval while active", async () => {
    let active = true;
    const runs: number[] = [];
    const task = cadenceTask("sweep", 5_000, () => active, (now) => void runs.push(now));
    expect(task.nextDueAt(0)).toBe(5_000);
    await task.run(10_000);
    expect(task.nextDueAt(10_000)).toBe(15_000);
    active = false;
    expect(task.nextDueAt(20_000)).toBeNull();
    expect(runs).toEqual([10_000]);
  });
});
