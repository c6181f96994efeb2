/**
 * A non-latching collapse condition (the reference's CollapseCondition): collapsed while coherence
 * ≥ threshold; released, with a warning, when it drops below. The engine's own flag latches (for
 * parity); the transducers report this one, so their "collapsed" can decay.
 */
export type CollapseTransition = "collapsed" | "maintained" | "released" | "below";

export interface CollapseEvaluation {
  readonly collapsed: boolean;
  readonly transition: CollapseTransition;
  readonly message: string;
  /** Set on "released": the one-line warning the reference logged. */
  readonly warning?: string;
}

export class CollapseCondition {
  private isCollapsed = false;
  private since: number | null = null;
  private atCoherence: number | null = null;

  constructor(readonly threshold = 0.95) {
    if (!Number.isFinite(threshold) || threshold < 0) throw new RangeError(`threshold must be a finite number ≥ 0, got ${threshold}`);
  }

  /** Evaluates coherence `c` at time `now` (epoch seconds). */
  evaluate(c: number, now: number): CollapseEvaluation {
    const at = c >= this.threshold;
    if (this.isCollapsed && at) {
      return { collapsed: true, transition: "maintained", message: `Maintained coherence ${c.toFixed(4)} ≥ ${this.threshold}` };
    }
    if (this.isCollapsed && !at) {
      this.isCollapsed = false;
      const warning = `coherence decayed to ${c.toFixed(4)} below ${this.threshold}; collapse released`;
      return { collapsed: false, transition: "released", message: `Coherence decayed: ${c.toFixed(4)} < ${this.threshold}`, warning };
    }
    if (at) {
      this.isCollapsed = true;
      this.since = now;
      this.atCoherence = c;
      return { collapsed: true, transition: "collapsed", message: `Collapsed at coherence ${c.toFixed(4)} ≥ ${this.threshold}` };
    }
    return { collapsed: false, transition: "below", message: `Below threshold: ${c.toFixed(4)} < ${this.threshold}` };
  }

  /** Forces a collapse at coherence c (default the threshold). */
  forceCollapse(now: number, c?: number): void {
    this.isCollapsed = true;
    this.since = now;
    this.atCoherence = c === undefined || c === 0 ? this.threshold : c;
  }

  get collapsed(): boolean {
    return this.isCollapsed;
  }

  get collapseTimestamp(): number | null {
    return this.since;
  }

  get collapseCoherence(): number | null {
    return this.atCoherence;
  }

  /** Seconds collapsed as of `now`; 0 when not collapsed (the reference kept counting after release). */
  duration(now: number): number {
    return this.isCollapsed && this.since !== null ? Math.max(0, now - this.since) : 0;
  }

  reset(): void {
    this.isCollapsed = false;
    this.since = null;
    this.atCoherence = null;
  }
}
