/**
 * Per-sample dampening scales without touching every sample on every token (token-clock mode).
 *
 * Dampening maps each sample's norm N = a·‖u‖ by N ← d·N, then N ← N + 0.1·(1 − N) when 0 < N < 1.
 * A scale only matters through the sign of its term's coupling, a·|B| + r·m, which can flip only when
 * m < 0, at a < θ = −r·m/|B|. Samples fall into three regimes:
 *
 * - pre (norm still ≥ 1): pure products, a = G/G_birth with G the running product of every d —
 *   O(1) to read. A sample's scale only falls here, so its sign flips at most once: when G drops
 *   below θ·G_birth (a max-heap of those keys). Samples of one dimension leave this regime in birth
 *   order (older ones have smaller scales), so a FIFO per dimension finds the ones that cross below 1.
 * - young (below 1 for fewer than MATURE_STEPS steps): tracked one by one, O(#young) per step.
 * - mature: the restoring map N ← 0.9·d·N + 0.1 contracts by ≥ 0.1 per step, so after MATURE_STEPS
 *   steps every sample's norm has converged (to within rounding) to one canonical norm C, and
 *   a = C/‖u‖. Their flip points φ = θ·‖u‖ are kept sorted; when C moves, exactly the samples whose φ
 *   lies between the old and new C are re-checked.
 *
 * Per token this costs O(#young + log n + flips) instead of O(n). The canonical norm agrees with
 * each mature sample's own iterated norm to within a few ulps, which can only matter for a term
 * sitting exactly on its flip point.
 */
import type { SampleRing } from "./sample-ring.js";

const PRE = 0;
const YOUNG = 1;
const MATURE = 2;
/** 0.9^400 ≈ 5e-19: differences between norms are gone well before this. */
const MATURE_STEPS = 400;
/** Mature norms stay in [0.357, 1): flip points outside a margin around that never change sign. */
const MATURE_PHI_LOW = 0.2;
const MATURE_PHI_HIGH = 1.1;
const RENORMALISE_BELOW = 1e-150;

export class ScaleTracker {
  private readonly regime: Uint8Array;
  private readonly birthG: Float64Array;
  private readonly youngScale: Float64Array;
  private readonly youngAge: Int32Array;
  private readonly version: Int32Array;
  private readonly phi: Float64Array;
  private readonly inSorted: Uint8Array;
  private G = 1;
  /** Canonical mature norm; NaN until the first sample matures. */
  private C = Number.NaN;
  /** FIFO of [slot, seq] per dimension, samples still in the pre regime, oldest first. */
  private readonly pre = new Map<number, { slots: number[]; seqs: number[]; head: number }>();
  private young: number[] = [];
  private youngSeq: number[] = [];
  /** Max-heap on key = θ·G_birth of pre-regime flip candidates. */
  private heapKey: number[] = [];
  private heapSlot: number[] = [];
  private heapVersion: number[] = [];
  /** Mature flip candidates sorted by φ. */
  private sortedPhi: number[] = [];
  private sortedSlot: number[] = [];

  constructor(
    private readonly ring: SampleRing,
    /** Re-derives slot e's sign from scaleOf(e) and updates the sum if it changed. */
    private readonly recheck: (slot: number) => void,
    /** Whether slot e's term is in the sum now. */
    private readonly hasTerm: (slot: number) => boolean,
  ) {
    const H = ring.capacity;
    this.regime = new Uint8Array(H);
    this.birthG = new Float64Array(H);
    this.youngScale = new Float64Array(H);
    this.youngAge = new Int32Array(H);
    this.version = new Int32Array(H);
    this.phi = new Float64Array(H);
    this.inSorted = new Uint8Array(H);
  }

  restart(): void {
    this.G = 1;
    this.C = Number.NaN;
    this.pre.clear();
    this.young = [];
    this.youngSeq = [];
    this.heapKey = [];
    this.heapSlot = [];
    this.heapVersion = [];
    this.sortedPhi = [];
    this.sortedSlot = [];
    this.inSorted.fill(0);
  }

  scaleOf(e: number): number {
    switch (this.regime[e]) {
      case PRE:
        return this.G / this.birthG[e]!;
      case YOUNG:
        return this.youngScale[e]!;
      default:
        return this.C / this.ring.unitNorm[e]!;
    }
  }

  /** A new sample in slot e (scale 1). */
  added(e: number): void {
    this.dropLeftPre();
    this.version[e]! += 1;
    this.inSorted[e] = 0;
    this.regime[e] = PRE;
    this.birthG[e] = this.G;
    const dim = this.ring.dim[e]!;
    let q = this.pre.get(dim);
    if (!q) {
      q = { slots: [], seqs: [], head: 0 };
      this.pre.set(dim, q);
    }
    q.slots.push(e);
    q.seqs.push(this.ring.seq[e]!);
  }

  /** Forgets pre-regime FIFO entries that left the ring (keeps the FIFOs bounded without dampening). */
  private dropLeftPre(): void {
    const ring = this.ring;
    const seq0 = ring.seq[ring.head]!;
    for (const q of this.pre.values()) {
      while (q.head < q.slots.length && (q.seqs[q.head]! < seq0 || ring.seq[q.slots[q.head]!] !== q.seqs[q.head])) q.head++;
      if (q.head > 1024 && q.head * 2 > q.slots.length) {
        q.slots = q.slots.slice(q.head);
        q.seqs = q.seqs.slice(q.head);
        q.head = 0;
      }
    }
  }

  /** Slot e's term was (re)formed: watch for its flip when it can flip. */
  registerTerm(e: number): void {
    const ring = this.ring;
    const m = ring.termM[e]!;
    const absB = ring.termAbsB[e]!;
    if (!(m < 0) || ring.termCross[e] === 1 || !(absB > 0)) return;
    const theta = (-ring.termRp[e]! * m) / absB;
    if (this.regime[e] === PRE) this.heapPush(theta * this.birthG[e]!, e, this.version[e]!);
    else if (this.regime[e] === MATURE) this.sortedInsert(e, theta * ring.unitNorm[e]!);
  }

  /** Slot e's term is going away (re-paired or left the sum); stale heap entries are skipped. */
  unregisterTerm(e: number): void {
    this.version[e]! += 1;
    if (this.inSorted[e] === 1) this.sortedRemove(e);
  }

  /** One dampening step with factor d. */
  step(d: number): void {
    const ring = this.ring;
    const seq0 = ring.seq[ring.head]!;
    // Canonical mature norm, and the mature samples whose flip point it crossed.
    if (!Number.isNaN(this.C)) {
      const before = this.C;
      let n = this.C * d;
      if (n > 0 && n < 1) n = n + 0.1 * (1 - n);
      this.C = n;
      this.recheckSortedBetween(Math.min(before, n), Math.max(before, n));
    }
    // Young samples, one by one; those old enough join the mature regime.
    const keepSlots: number[] = [];
    const keepSeqs: number[] = [];
    for (let k = 0; k < this.young.length; k++) {
      const e = this.young[k]!;
      if (ring.seq[e] !== this.youngSeq[k] || this.youngSeq[k]! < seq0) continue;
      const nu = ring.unitNorm[e]!;
      let a = this.youngScale[e]! * d;
      const norm = a * nu;
      if (norm > 0 && norm < 1) a = a + (0.1 * (1 - norm)) / nu;
      this.youngScale[e] = a;
      this.youngAge[e]! += 1;
      if (this.youngAge[e]! >= MATURE_STEPS) {
        if (Number.isNaN(this.C)) this.C = a * nu;
        this.regime[e] = MATURE;
        this.version[e]! += 1;
        if (this.hasTerm(e)) this.registerTerm(e);
      } else {
        keepSlots.push(e);
        keepSeqs.push(this.youngSeq[k]!);
      }
      this.recheck(e);
    }
    this.young = keepSlots;
    this.youngSeq = keepSeqs;
    // Pre samples: the product moves; those now below norm 1 get the restoring step and turn young.
    this.G *= d;
    for (const q of this.pre.values()) {
      while (q.head < q.slots.length) {
        const e = q.slots[q.head]!;
        const s = q.seqs[q.head]!;
        if (ring.seq[e] !== s || s < seq0 || this.regime[e] !== PRE) {
          q.head++;
          continue;
        }
        const nu = ring.unitNorm[e]!;
        const a = this.G / this.birthG[e]!;
        const norm = a * nu;
        if (!(norm < 1)) break;
        this.youngScale[e] = norm > 0 ? a + (0.1 * (1 - norm)) / nu : a;
        this.youngAge[e] = 0;
        this.regime[e] = YOUNG;
        this.version[e]! += 1;
        this.young.push(e);
        this.youngSeq.push(s);
        q.head++;
        this.recheck(e);
      }
      if (q.head > 1024 && q.head * 2 > q.slots.length) {
        q.slots = q.slots.slice(q.head);
        q.seqs = q.seqs.slice(q.head);
        q.head = 0;
      }
    }
    // Pre samples whose scale fell below their flip point.
    while (this.heapKey.length > 0 && this.G < this.heapKey[0]!) {
      const e = this.heapSlot[0]!;
      const v = this.heapVersion[0]!;
      this.heapPop();
      if (this.version[e] === v && this.regime[e] === PRE) this.recheck(e);
    }
    if (this.G < RENORMALISE_BELOW) this.renormalise();
  }

  /** Keeps G away from underflow: scales G, every pre birth product and heap key alike. */
  private renormalise(): void {
    const f = 1 / this.G;
    this.G = 1;
    const ring = this.ring;
    for (let i = 0; i < ring.count; i++) {
      const e = ring.slotAt(i);
      if (this.regime[e] === PRE) this.birthG[e]! *= f;
    }
    for (let i = 0; i < this.heapKey.length; i++) this.heapKey[i]! *= f;
  }

  private recheckSortedBetween(lo: number, hi: number): void {
    if (this.sortedPhi.length === 0 || lo === hi) return;
    // φ in [lo, hi]: a = C/‖u‖ crossed θ (inclusive bounds: re-checking is harmless).
    let i = this.lowerBound(lo);
    const slots: number[] = [];
    while (i < this.sortedPhi.length && this.sortedPhi[i]! <= hi) slots.push(this.sortedSlot[i++]!);
    for (const e of slots) this.recheck(e);
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.sortedPhi.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedPhi[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private sortedInsert(e: number, phi: number): void {
    if (!(phi >= MATURE_PHI_LOW && phi <= MATURE_PHI_HIGH)) return;
    const i = this.lowerBound(phi);
    this.sortedPhi.splice(i, 0, phi);
    this.sortedSlot.splice(i, 0, e);
    this.phi[e] = phi;
    this.inSorted[e] = 1;
  }

  private sortedRemove(e: number): void {
    let i = this.lowerBound(this.phi[e]!);
    while (i < this.sortedSlot.length && this.sortedSlot[i] !== e) i++;
    if (i < this.sortedSlot.length) {
      this.sortedPhi.splice(i, 1);
      this.sortedSlot.splice(i, 1);
    }
    this.inSorted[e] = 0;
  }

  private heapPush(key: number, slot: number, version: number): void {
    if (this.heapKey.length > 4 * this.ring.capacity + 64) this.heapRebuild();
    const k = this.heapKey;
    const s = this.heapSlot;
    const v = this.heapVersion;
    let i = k.length;
    k.push(key);
    s.push(slot);
    v.push(version);
    while (i > 0) {
      const p = (i - 1) >>> 1;
      if (k[p]! >= k[i]!) break;
      swap(k, i, p);
      swap(s, i, p);
      swap(v, i, p);
      i = p;
    }
  }

  /** Drops stale entries (superseded versions, samples no longer pre) and re-heaps. */
  private heapRebuild(): void {
    const keys = this.heapKey;
    const slots = this.heapSlot;
    const versions = this.heapVersion;
    this.heapKey = [];
    this.heapSlot = [];
    this.heapVersion = [];
    for (let i = 0; i < keys.length; i++) {
      const e = slots[i]!;
      if (this.version[e] === versions[i] && this.regime[e] === PRE) this.heapPush(keys[i]!, e, versions[i]!);
    }
  }

  private heapPop(): void {
    const k = this.heapKey;
    const s = this.heapSlot;
    const v = this.heapVersion;
    const last = k.length - 1;
    swap(k, 0, last);
    swap(s, 0, last);
    swap(v, 0, last);
    k.pop();
    s.pop();
    v.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < k.length && k[l]! > k[m]!) m = l;
      if (r < k.length && k[r]! > k[m]!) m = r;
      if (m === i) break;
      swap(k, i, m);
      swap(s, i, m);
      swap(v, i, m);
      i = m;
    }
  }
}

function swap(a: number[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
