/**
 * A temporal signature: the plain record a memorable engine state becomes (REFERENCE.md §4.2),
 * ready to be sealed into a log. Times are ISO 8601 UTC strings.
 */
export const MemoryStrength = {
  TRANSIENT: 0.2,
  WORKING: 0.4,
  EPISODIC: 0.6,
  PROCEDURAL: 0.7,
  SEMANTIC: 0.8,
  IDENTITY: 0.95,
} as const;
export type MemoryStrengthName = keyof typeof MemoryStrength;

/** Strength class of a coherence: the first of ≥0.95, ≥0.80, ≥0.70, ≥0.60, ≥0.40 that holds. */
export function classifyStrength(c: number): number {
  if (c >= 0.95) return MemoryStrength.IDENTITY;
  if (c >= 0.8) return MemoryStrength.SEMANTIC;
  if (c >= 0.7) return MemoryStrength.PROCEDURAL;
  if (c >= 0.6) return MemoryStrength.EPISODIC;
  if (c >= 0.4) return MemoryStrength.WORKING;
  return MemoryStrength.TRANSIENT;
}

export interface TemporalSignature {
  readonly signatureId: string;
  readonly coherenceValue: number;
  /** Phase angles (radians). */
  readonly phaseVector: readonly number[];
  readonly frequencyModes: readonly number[];
  readonly contextHash: string;
  readonly strength: number;
  readonly origin: string;
  readonly parentId: string | null;
  readonly createdAt: string;
  lastAccessed: string;
  accessCount: number;
  decayRate: number;
  readonly content: unknown;
}

/** The reference's to_dict: its key names and order, the payload a log seals. */
export function signaturePayload(s: TemporalSignature): Record<string, unknown> {
  return {
    signature_id: s.signatureId,
    coherence_value: s.coherenceValue,
    phase_vector: [...s.phaseVector],
    frequency_modes: [...s.frequencyModes],
    context_hash: s.contextHash,
    strength: s.strength,
    origin: s.origin,
    parent_id: s.parentId,
    created_at: s.createdAt,
    last_accessed: s.lastAccessed,
    access_count: s.accessCount,
    decay_rate: s.decayRate,
    content: s.content ?? null,
  };
}

/** retention = max(e^{−rate·hours} + min(0.2·accesses, 0.5) − rate/2, 0), hours since creation. */
export function retention(s: TemporalSignature, nowMs: number): number {
  const hours = Math.max(0, nowMs - Date.parse(s.createdAt)) / 3_600_000;
  return Math.max(Math.exp(-s.decayRate * hours) + Math.min(0.2 * s.accessCount, 0.5) - 0.5 * s.decayRate, 0);
}

export const RETAIN_ABOVE = 0.1;

export function shouldRetain(s: TemporalSignature, nowMs: number, threshold = RETAIN_ABOVE): boolean {
  return retention(s, nowMs) > threshold;
}

/** Σ_k min(|a_k − b_k|, 2π − |a_k − b_k|) over the common length. */
export function phaseDistance(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let d = 0;
  for (let k = 0; k < n; k++) {
    const x = Math.abs(a[k]! - b[k]!);
    d += Math.min(x, 2 * Math.PI - x);
  }
  return d;
}

/**
 * Resonance of a signature with a query phase: 1/(1 + distance) × coherence × e^{−rate·hours}
 * × (0.7 for origin "solaria"); 0 when either vector is empty.
 */
export function resonanceScore(s: TemporalSignature, query: readonly number[], nowMs: number): number {
  if (s.phaseVector.length === 0 || query.length === 0) return 0;
  const hours = Math.max(0, nowMs - Date.parse(s.createdAt)) / 3_600_000;
  const originWeight = s.origin === "solaria" ? 0.7 : 1.0;
  return (1 / (1 + phaseDistance(query, s.phaseVector))) * s.coherenceValue * Math.exp(-s.decayRate * hours) * originWeight;
}
