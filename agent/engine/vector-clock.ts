/** A vector clock: one counter per node; merge takes the element-wise max, then ticks our own. */
export class VectorClock {
  private readonly clocks = new Map<string, number>();

  constructor(readonly nodeId: string) {
    this.clocks.set(nodeId, 0);
  }

  increment(): number {
    const v = (this.clocks.get(this.nodeId) ?? 0) + 1;
    this.clocks.set(this.nodeId, v);
    return v;
  }

  /** Element-wise max with `other`, then increment our own entry. Bad entries are ignored. */
  merge(other: Readonly<Record<string, number>>): void {
    for (const [node, value] of Object.entries(other)) {
      if (!Number.isSafeInteger(value) || value < 0) continue;
      if (value > (this.clocks.get(node) ?? 0)) this.clocks.set(node, value);
    }
    this.increment();
  }

  get(node: string): number {
    return this.clocks.get(node) ?? 0;
  }

  /** A copy, safe to serialise. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.clocks);
  }

  /** True when every entry of ours is ≤ other's and at least one is <. */
  happenedBefore(other: Readonly<Record<string, number>>): boolean {
    let strictly = false;
    const nodes = new Set([...this.clocks.keys(), ...Object.keys(other)]);
    for (const n of nodes) {
      const a = this.clocks.get(n) ?? 0;
      const b = other[n] ?? 0;
      if (a > b) return false;
      if (a < b) strictly = true;
    }
    return strictly;
  }
}
