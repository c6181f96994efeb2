import { fieldPhaseAt, kuramotoStep, wrapPhase, type MeanField } from "../../shared/kuramoto/index.js";

export interface MeshCoupling {
  /** K. */
  readonly coupling: number;
  /** Largest |coupling step| per tick, radians. */
  readonly maxStep: number;
  /** A field older than this is ignored (the oscillator runs free until a fresh one arrives). */
  readonly fieldMaxAgeMs: number;
}

export interface MeshView {
  readonly theta: number;
  readonly omega: number;
  readonly coupling: number;
  readonly maxStep: number;
  /** The last field from the edge, with its age, or null if none (or too old to use). */
  readonly field: (MeanField & { readonly ageMs: number }) | null;
  /** ψ(now) − θ wrapped: how far this agent is from the fleet, radians (0 without a field). */
  readonly phaseGap: number;
}

/**
 * The agent's mesh oscillator θ: each tick dθ = ω dt + clamp(K r sin(ψ(t) − θ) dt), with ψ(t)
 * extrapolated from the last field by its Ω (shared/kuramoto). Pure state, no I/O: the edge link
 * delivers fields and coupling; the clock supplies dt and the time.
 */
export class MeshOscillator {
  private thetaValue: number;
  private field: MeanField | undefined;
  private couplingValue: MeshCoupling;

  constructor(
    readonly omega: number,
    coupling: MeshCoupling,
    theta0 = 0,
  ) {
    this.couplingValue = coupling;
    this.thetaValue = wrapPhase(theta0);
  }

  get theta(): number {
    return this.thetaValue;
  }

  setField(field: MeanField): void {
    if (!Number.isFinite(field.r) || !Number.isFinite(field.psi) || !Number.isFinite(field.omega) || !Number.isFinite(field.t)) return;
    // Fields may arrive out of order across a reconnect; keep the newest.
    if (this.field && field.t < this.field.t) return;
    this.field = field;
  }

  setCoupling(coupling: MeshCoupling): void {
    this.couplingValue = coupling;
  }

  /** Advances θ by one tick of dtSeconds at wall time `nowMs` (epoch ms). */
  step(dtSeconds: number, nowMs: number): number {
    const usable = this.usableField(nowMs);
    const field = usable ? { r: usable.r, psi: fieldPhaseAt(usable, nowMs) } : { r: 0, psi: 0 };
    this.thetaValue = kuramotoStep(this.thetaValue, this.omega, dtSeconds, field, this.couplingValue);
    return this.thetaValue;
  }

  view(nowMs: number): MeshView {
    const usable = this.usableField(nowMs);
    return {
      theta: this.thetaValue,
      omega: this.omega,
      coupling: this.couplingValue.coupling,
      maxStep: this.couplingValue.maxStep,
      field: usable ? { ...usable, ageMs: nowMs - usable.t } : null,
      phaseGap: usable ? wrapPhase(fieldPhaseAt(usable, nowMs) - this.thetaValue) : 0,
    };
  }

  private usableField(nowMs: number): MeanField | undefined {
    const f = this.field;
    if (!f || nowMs - f.t > this.couplingValue.fieldMaxAgeMs) return undefined;
    return f;
  }
}
