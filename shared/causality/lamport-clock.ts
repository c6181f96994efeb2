/**
 * A Lamport clock: `tick` for a local event (+1), `update` on receipt: L = max(L, remote) + 1.
 * It never goes backwards; `restore` only moves it forward (e.g. from storage after a restart).
 */
export class LamportClock {
  #time: number;

  constructor(start = 0) {
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`LamportClock: bad start ${start}`);
    this.#time = start;
  }

  get time(): number {
    return this.#time;
  }

  tick(): number {
    this.#time += 1;
    return this.#time;
  }

  update(remote: number): number {
    if (!Number.isSafeInteger(remote) || remote < 0) throw new RangeError(`LamportClock: bad remote time ${remote}`);
    this.#time = Math.max(this.#time, remote) + 1;
    return this.#time;
  }

  restore(time: number): void {
    if (Number.isSafeInteger(time) && time > this.#time) this.#time = time;
  }
}

/**
 * The coordinator's receive rule with a bounded step: L' = min(max(L, min(remote, L + step) + 1), max).
 * Lamport's max(L, remote) + 1 would let one peer's clock become everyone's; bounding the step per
 * message keeps any single message from dragging the clock far, and `max` keeps it a valid wire
 * value. A remote clock already below L does not tick it: in a large fleet, a tick per received
 * message would make the coordinator's clock run at the fleet's message rate and hide any one
 * agent's own rate behind it. L' still exceeds every remote clock it absorbed (within the step).
 */
export function absorbClock(local: number, remote: number, step: number, max: number): number {
  return Math.min(Math.max(local, Math.min(remote, local + Math.max(0, step)) + 1), max);
}
