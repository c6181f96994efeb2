/**
 * A transducer's phase track (the reference's core/phase.py): phases as they advance or are set,
 * with angular velocity over the last 10 states. Bounded; timestamps are epoch seconds (UTC).
 */
import { type Complex, complexArg, complexMul, unitPhasor } from "./complex.js";

export interface PhaseState {
  /** The phase as a complex number (a vector input is represented by its mean phasor). */
  readonly value: Complex;
  /** Angle reduced to [0, 2π). */
  readonly angle: number;
  readonly timestamp: number;
  readonly source: string;
}

export interface PhaseHistoryConfig {
  readonly omega: number;
  readonly historySize: number;
  readonly dampening: number;
}

export const DEFAULT_PHASE_HISTORY_CONFIG: PhaseHistoryConfig = { omega: 2 * Math.PI, historySize: 10000, dampening: 0.999 };

const VELOCITY_WINDOW = 10;

function reduceAngle(z: Complex): number {
  const a = complexArg(z);
  return a < 0 ? a + 2 * Math.PI : a;
}

export class PhaseHistory {
  private readonly states: PhaseState[] = [];
  private lastVelocity = 0;
  readonly config: PhaseHistoryConfig;

  constructor(
    config: Partial<PhaseHistoryConfig> = {},
    readonly name = "phase",
    start = Date.now() / 1000,
  ) {
    this.config = { ...DEFAULT_PHASE_HISTORY_CONFIG, ...config };
    if (!Number.isInteger(this.config.historySize) || this.config.historySize < 1) {
      throw new RangeError(`historySize must be an integer ≥ 1, got ${this.config.historySize}`);
    }
    this.push({ re: 1, im: 0 }, start, "initialization");
  }

  private push(value: Complex, timestamp: number, source: string): PhaseState {
    const state: PhaseState = { value, angle: reduceAngle(value), timestamp, source };
    this.states.push(state);
    if (this.states.length > this.config.historySize) this.states.shift();
    return state;
  }

  get current(): PhaseState {
    return this.states[this.states.length - 1]!;
  }

  get length(): number {
    return this.states.length;
  }

  /**
   * Rotates the phase by ω·dt and applies the dampening factor. The new state is stamped current
   * + dt (the reference stamped "now", which made velocity depend on call timing).
   */
  advance(dt: number, source = "advance"): PhaseState {
    if (!Number.isFinite(dt) || dt < 0) throw new RangeError(`dt must be a finite number ≥ 0, got ${dt}`);
    const cur = this.current;
    const next = complexMul(cur.value, unitPhasor(this.config.omega * dt));
    const damped = { re: next.re * this.config.dampening, im: next.im * this.config.dampening };
    const state = this.push(damped, cur.timestamp + dt, source);
    this.computeVelocity();
    return state;
  }

  /** Sets the phase (a vector of angles is represented by its mean phasor). */
  setPhase(value: Complex | Float64Array | readonly number[], timestamp: number, source = "set"): PhaseState {
    let z: Complex;
    if ("re" in value) z = value;
    else {
      let re = 0;
      let im = 0;
      for (const a of value) {
        re += Math.cos(a);
        im += Math.sin(a);
      }
      const n = Math.max(1, value.length);
      z = { re: re / n, im: im / n };
    }
    const state = this.push(z, timestamp, source);
    this.computeVelocity();
    return state;
  }

  /** Angular velocity (rad/s) over the last 10 states: Σ wrapped Δθ / Σ Δt (0 without elapsed time). */
  computeVelocity(): number {
    const recent = this.states.slice(-VELOCITY_WINDOW);
    let dTheta = 0;
    let dT = 0;
    for (let i = 1; i < recent.length; i++) {
      let d = recent[i]!.angle - recent[i - 1]!.angle;
      d = Math.atan2(Math.sin(d), Math.cos(d));
      dTheta += d;
      dT += recent[i]!.timestamp - recent[i - 1]!.timestamp;
    }
    this.lastVelocity = dT > 0 ? dTheta / dT : 0;
    return this.lastVelocity;
  }

  get velocity(): number {
    return this.lastVelocity;
  }

  reset(start = Date.now() / 1000): void {
    this.states.length = 0;
    this.lastVelocity = 0;
    this.push({ re: 1, im: 0 }, start, "initialization");
  }

  snapshot(): { name: string; angle: number; complex: [number, number]; timestamp: number; velocity: number; historyLength: number } {
    const c = this.current;
    return { name: this.name, angle: c.angle, complex: [c.value.re, c.value.im], timestamp: c.timestamp, velocity: this.lastVelocity, historyLength: this.states.length };
  }
}
