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
