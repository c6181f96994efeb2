/**
 * Temporal memory (REFERENCE.md §4.4): engine states with coherence ≥ the attention threshold (or
 * forced) become signatures; they decay, echo one another, are retrieved by similarity and recency,
 * recognised, consolidated and pruned. Pure: no files; `toDocument`/`fromDocument` give the JSON
 * shape for whoever persists it, and every new signature is handed to `onSignature` (to seal it).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { MemoryStrength, type TemporalSignature, classifyStrength, retention, signaturePayload } from "./memory-signature.js";

export interface MemoryConfig {
  readonly maxMemories: number;
  readonly decayBase: number;
  readonly attentionThreshold: number;
}

export const DEFAULT_MEMORY_CONFIG: MemoryConfig = { maxMemories: 10000, decayBase: 0.01, attentionThreshold: 0.7 };

/**
 * createdAt are ISO 8601 UTC strings of one format, so code-unit order is time order (as in the
 * reference's Python string comparison). localeCompare would sort by the locale's collation instead
 * and pull ICU's collation data into a process that otherwise never needs it.
 */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What memory needs of an engine state. */
export interface MemoryQuery {
  readonly coherence: number;
  readonly angles?: ArrayLike<number>;
  readonly frequencyModes?: readonly number[];
}

export interface PatternEcho {
  readonly echoId: string;
  readonly sourceSignatureId: string;
  readonly coherenceTrace: number;
  readonly phaseSimilarity: number;
  readonly temporalOffset: number;
  readonly createdAt: string;
}

export interface RetrieveOptions {
  readonly coherenceRange?: readonly [number, number];
  readonly strengthFilter?: readonly number[];
  readonly maxResults?: number;
  readonly recencyWeight?: number;
}

export interface Retrieved {
  readonly signature: TemporalSignature;
  readonly relevance: number;
}

export interface ConsolidationReport {
  readonly beforeCount: number;
  readonly strengthened: number;
  readonly decayed: number;
  readonly pruned: number;
  readonly echoesCreated: number;
  readonly afterCount: number;
}

const ECHO_WINDOW = 50;
const utf8 = new TextEncoder();

function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8.encode(text)));
}

/** JSON with sorted keys (Python's json.dumps(sort_keys=True) shape, for the context hash). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${sortedJson(x)}`).join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Mean of the last 5 angles, summed and divided by 5 as the reference does. */
function tailPhase(angles: readonly number[]): number {
  return angles.slice(-5).reduce((a, b) => a + b, 0) / 5;
}

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

export class TemporalMemory {
  readonly config: MemoryConfig;
  private readonly signatures = new Map<string, TemporalSignature>();
  private readonly echoes = new Map<string, PatternEcho[]>();
  private counter = 0;

  constructor(
    config: Partial<MemoryConfig> = {},
    private readonly nowMs: () => number = Date.now,
    private readonly onSignature?: (s: TemporalSignature, payload: Record<string, unknown>) => void,
  ) {
    this.config = { ...DEFAULT_MEMORY_CONFIG, ...config };
  }

  get size(): number {
    return this.signatures.size;
  }

  get(id: string): TemporalSignature | undefined {
    return this.signatures.get(id);
  }

  all(): TemporalSignature[] {
    return [...this.signatures.values()];
  }

  echoesOf(id: string): readonly PatternEcho[] {
    return this.echoes.get(id) ?? [];
  }

  /** Encodes a state when c ≥ the attention threshold (or forced); returns the signature or undefined. */
  encode(
    state: MemoryQuery,
    options: { context?: unknown; force?: boolean; origin?: string; parentId?: string | null } = {},
  ): TemporalSignature | undefined {
    const c = state.coherence;
    if (!Number.isFinite(c)) throw new RangeError(`coherence must be finite, got ${c}`);
    if (c < this.config.attentionThreshold && !options.force) return undefined;
    const angles = state.angles ? Array.from(state.angles) : [];
    const now = new Date(this.nowMs()).toISOString();
    // The counter keeps ids unique within one millisecond.
    const id = `sig_${now}_${sha256Hex(`${angles[angles.length - 1] ?? 0}${c}${now}${this.counter++}`).slice(0, 16)}`;
    const sig: TemporalSignature = {
      signatureId: id,
      coherenceValue: c,
      phaseVector: angles,
      frequencyModes: state.frequencyModes ?? [],
      contextHash: options.context === undefined ? "" : sha256Hex(sortedJson(options.context)).slice(0, 16),
      strength: classifyStrength(c),
      origin: options.origin ?? "user",
      parentId: options.parentId ?? null,
      createdAt: now,
      lastAccessed: now,
      accessCount: 0,
      decayRate: this.config.decayBase * (1 - 0.5 * c),
      content: options.context ?? null,
    };
    this.signatures.set(id, sig);
    this.createEchoes(sig);
    if (this.signatures.size > this.config.maxMemories) this.prune();
    this.onSignature?.(sig, signaturePayload(sig));
    return sig;
  }

  /** Echoes with recent signatures of similar tail phase (> 0.7) and coherence (Δ < 0.2). */
  private createEchoes(sig: TemporalSignature): number {
    const recent = [...this.signatures.values()].filter((s) => s.signatureId !== sig.signatureId).slice(-ECHO_WINDOW);
    let created = 0;
    for (const other of recent) {
      const match =
        sig.phaseVector.length === 0 || other.phaseVector.length === 0
          ? 0.5
          : 1 - Math.min(Math.abs(tailPhase(sig.phaseVector) - tailPhase(other.phaseVector)), 1);
      if (match > 0.7 && Math.abs(sig.coherenceValue - other.coherenceValue) < 0.2) {
        const echo: PatternEcho = {
          // Full ids: the reference's 8-character prefixes made every echo id the same.
          echoId: `echo_${sig.signatureId}_${other.signatureId}`,
          sourceSignatureId: other.signatureId,
          coherenceTrace: 0.8 * other.coherenceValue,
          phaseSimilarity: match,
          temporalOffset: (Date.parse(sig.createdAt) - Date.parse(other.createdAt)) / 1000,
          createdAt: sig.createdAt,
        };
        const list = this.echoes.get(sig.signatureId) ?? [];
        if (!list.some((e) => e.echoId === echo.echoId)) {
          list.push(echo);
          created += 1;
        }
        this.echoes.set(sig.signatureId, list);
      }
    }
    return created;
  }

  /**
   * Ranks signatures: 0.4·(1 − |c_q − c_s|) + 0.3·phase similarity + recencyWeight/(1 + hours since
   * last access) + 0.2·strength/5, highest first.
   */
  retrieve(query: MemoryQuery, options: RetrieveOptions = {}): Retrieved[] {
    const [lo, hi] = options.coherenceRange ?? [0, 1];
    const recencyWeight = options.recencyWeight ?? 0.3;
    const max = options.maxResults ?? 10;
    const cq = Math.min(1, Math.max(0, query.coherence));
    const qAngles = query.angles && query.angles.length > 0 ? query.angles : undefined;
    const now = this.nowMs();
    const out: Retrieved[] = [];
    for (const s of this.signatures.values()) {
      const cs = Math.min(1, Math.max(0, s.coherenceValue));
      if (cs < lo || cs > hi) continue;
      if (options.strengthFilter && !options.strengthFilter.includes(s.strength)) continue;
      const phaseSim = qAngles && s.phaseVector.length > 0 ? 1 - Math.min(Math.abs(meanOf(qAngles) - meanOf(s.phaseVector)), 1) : 0.5;
      const hours = Math.max(0, now - Date.parse(s.lastAccessed)) / 3_600_000;
      const relevance = 0.4 * (1 - Math.abs(cq - cs)) + 0.3 * phaseSim + recencyWeight / (1 + hours) + (0.2 * s.strength) / 5;
      out.push({ signature: s, relevance });
    }
    out.sort((a, b) => b.relevance - a.relevance);
    return out.slice(0, max);
  }

  /** The best match (recency weight 0.5) when its relevance ≥ threshold: bumps its access count. */
  recognize(query: MemoryQuery, threshold = 0.7): TemporalSignature | undefined {
    const [best] = this.retrieve(query, { maxResults: 1, recencyWeight: 0.5 });
    if (!best || best.relevance < threshold) return undefined;
    best.signature.lastAccessed = new Date(this.nowMs()).toISOString();
    best.signature.accessCount += 1;
    return best.signature;
  }

  /** Strengthen (accessed and retention > 0.3), prune (< 0.1), else accelerate decay (×1.1, ≤ 0.1). */
  consolidate(): ConsolidationReport {
    const before = this.signatures.size;
    const now = this.nowMs();
    let strengthened = 0;
    let decayed = 0;
    let pruned = 0;
    let echoesCreated = 0;
    for (const s of [...this.signatures.values()]) {
      const r = retention(s, now);
      if (s.accessCount > 0 && r > 0.3) {
        strengthened += 1;
        echoesCreated += this.createEchoes(s);
      } else if (r < 0.1) {
        this.signatures.delete(s.signatureId);
        this.echoes.delete(s.signatureId);
        pruned += 1;
      } else {
        s.decayRate = Math.min(s.decayRate * 1.1, 0.1);
        decayed += 1;
      }
    }
    return { beforeCount: before, strengthened, decayed, pruned, echoesCreated, afterCount: this.signatures.size };
  }

  /**
   * Over capacity: of the weakest-then-oldest len − max + 100, drop those weaker than EPISODIC; if
   * still over (all strong), drop the oldest until within bounds (the reference could grow forever).
   */
  private prune(): void {
    const sorted = [...this.signatures.values()].sort((a, b) => a.strength - b.strength || compareCodeUnits(a.createdAt, b.createdAt));
    const excess = this.signatures.size - this.config.maxMemories + 100;
    for (const s of sorted.slice(0, Math.max(0, excess))) {
      if (s.strength < MemoryStrength.EPISODIC) this.delete(s.signatureId);
    }
    if (this.signatures.size > this.config.maxMemories) {
      const byAge = [...this.signatures.values()].sort((a, b) => compareCodeUnits(a.createdAt, b.createdAt));
      for (const s of byAge.slice(0, this.signatures.size - this.config.maxMemories)) this.delete(s.signatureId);
    }
  }

  private delete(id: string): void {
    this.signatures.delete(id);
    this.echoes.delete(id);
  }

  /** Signatures of IDENTITY strength. */
  identitySignatures(): TemporalSignature[] {
    return this.all().filter((s) => s.strength === MemoryStrength.IDENTITY);
  }

  /** Signatures created within the last `hours`. */
  recent(hours = 24): TemporalSignature[] {
    const cutoff = this.nowMs() - hours * 3_600_000;
    return this.all().filter((s) => Date.parse(s.createdAt) >= cutoff);
  }

  /** The reference's save document (version 1.0.0), JSON-safe (its echo datetimes broke save). */
  toDocument(): Record<string, unknown> {
    return {
      version: "1.0.0",
      saved_at: new Date(this.nowMs()).toISOString(),
      config: { max_memories: this.config.maxMemories, decay_base: this.config.decayBase, attention_threshold: this.config.attentionThreshold },
      signatures: Object.fromEntries(this.all().map((s) => [s.signatureId, signaturePayload(s)])),
      echoes: Object.fromEntries([...this.echoes].map(([id, list]) => [id, list.map((e) => ({ ...e }))])),
    };
  }

  /** Replaces the contents with a document from toDocument (clears first; loading twice is idempotent). */
  loadDocument(doc: unknown): void {
    if (typeof doc !== "object" || doc === null) throw new TypeError("memory document must be an object");
    const d = doc as { signatures?: Record<string, Record<string, unknown>>; echoes?: Record<string, PatternEcho[]> };
    this.signatures.clear();
    this.echoes.clear();
    for (const [id, p] of Object.entries(d.signatures ?? {})) {
      const num = (k: string, dflt: number) => (typeof p[k] === "number" ? (p[k] as number) : dflt);
      const str = (k: string, dflt: string) => (typeof p[k] === "string" ? (p[k] as string) : dflt);
      this.signatures.set(id, {
        signatureId: id,
        coherenceValue: num("coherence_value", 0),
        phaseVector: Array.isArray(p.phase_vector) ? (p.phase_vector as number[]).filter((x) => typeof x === "number") : [],
        frequencyModes: Array.isArray(p.frequency_modes) ? (p.frequency_modes as number[]) : [],
        contextHash: str("context_hash", ""),
        strength: num("strength", MemoryStrength.TRANSIENT),
        origin: str("origin", "user"),
        parentId: typeof p.parent_id === "string" ? p.parent_id : null,
        createdAt: str("created_at", new Date(this.nowMs()).toISOString()),
        lastAccessed: str("last_accessed", str("created_at", new Date(this.nowMs()).toISOString())),
        accessCount: num("access_count", 0),
        decayRate: num("decay_rate", 0.01),
        content: p.content ?? null,
      });
    }
    for (const [id, list] of Object.entries(d.echoes ?? {})) if (Array.isArray(list)) this.echoes.set(id, list);
  }
}
