/**
 * Recent (t, θ, coherence) of one agent, for its detail view: a fixed ring of typed arrays, so a
 * thousand agents updating four times a second allocate nothing per update.
 */
export const HISTORY_WINDOW_MS = 2 * 60_000;
const CAPACITY = 512;

export class PhaseHistory {
  readonly #t = new Float64Array(CAPACITY);
  readonly #theta = new Float32Array(CAPACITY);
  readonly #coherence = new Float32Array(CAPACITY);
  #start = 0;
  #length = 0;

  push(t: number, theta: number, coherence: number): void {
    if (this.#length > 0 && t <= this.#t[(this.#start + this.#length - 1) % CAPACITY]!) return;
    const at = (this.#start + this.#length) % CAPACITY;
    this.#t[at] = t;
    this.#theta[at] = theta;
    this.#coherence[at] = coherence;
    if (this.#length < CAPACITY) this.#length++;
    else this.#start = (this.#start + 1) % CAPACITY;
  }

  get length(): number {
    return this.#length;
  }

  /** Seconds (uPlot's x unit), θ and coherence of the points newer than `since` (ms). */
  series(since: number): [number[], number[], number[]] {
    const xs: number[] = [];
    const thetas: number[] = [];
    const cohs: number[] = [];
    for (let k = 0; k < this.#length; k++) {
      const at = (this.#start + k) % CAPACITY;
      const t = this.#t[at]!;
      if (t < since) continue;
      xs.push(t / 1000);
      thetas.push(this.#theta[at]!);
      cohs.push(this.#coherence[at]!);
    }
    return [xs, thetas, cohs];
  }
}
