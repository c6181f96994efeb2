import { describe, expect, it } from "vitest";
import {
  MemoryStrength,
  TemporalEngine,
  TemporalMemory,
  type TemporalSignature,
  classifyStrength,
  phaseDistance,
  resonanceScore,
  retention,
  shouldRetain,
  signaturePayload,
} from "../../agent/engine/index.js";

const T0 = Date.UTC(2026, 4, 25, 12);
const HOUR = 3_600_000;

function sig(over: Partial<TemporalSignature> = {}): TemporalSignature {
  return {
    signatureId: "s",
    coherenceValue: 0.9,
    phaseVector: [0.1, 0.2, 0.3],
    frequencyModes: [],
    contextHash: "",
    strength: MemoryStrength.SEMANTIC,
    origin: "user",
    parentId: null,
    createdAt: new Date(T0).toISOString(),
    lastAccessed: new Date(T0).toISOString(),
    accessCount: 0,
    decayRate: 0.01,
    content: null,
    ...over,
  };
}

describe("memory signatures", () => {
  it("classifies strength by coherence", () => {
    expect([0.99, 0.95, 0.85, 0.75, 0.65, 0.5, 0.1].map(classifyStrength)).toEqual([0.95, 0.95, 0.8, 0.7, 0.6, 0.4, 0.2]);
  });

  it("decays: e^{−rate·h} + min(0.2·accesses, 0.5) − rate/2, kept while > 0.1", () => {
    const s = sig({ decayRate: 0.1 });
    expect(retention(s, T0)).toBeCloseTo(1 - 0.05, 12);
    expect(retention(s, T0 + 10 * HOUR)).toBeCloseTo(Math.exp(-1) - 0.05, 12);
    expect(shouldRetain(s, T0 + 30 * HOUR)).toBe(false);
    const accessed = sig({ decayRate: 0.1, accessCount: 4 });
    expect(retention(accessed, T0 + 30 * HOUR)).toBeCloseTo(Math.exp(-3) + 0.5 - 0.05, 12);
    expect(shouldRetain(accessed, T0 + 30 * HOUR)).toBe(true);
  });

  it("payload keeps the reference's key order", () => {
    expect(Object.keys(signaturePayload(sig()))).toEqual([
      "signature_id", "coherence_value", "phase_vector", "frequency_modes", "context_hash", "strength",
      "origin", "parent_id", "created_at", "last_accessed", "access_count", "decay_rate", "content",
    ]);
  });

  it("resonance: user ≥ solaria, recent > old, high coherence > low, > 0", () => {
    const q = [0.1, 0.25, 0.3];
    const now = T0 + 0.1 * HOUR;
    expect(resonanceScore(sig(), q, now)).toBeGreaterThanOrEqual(resonanceScore(sig({ origin: "solaria" }), q, now));
    expect(resonanceScore(sig(), q, now)).toBeGreaterThan(resonanceScore(sig({ createdAt: new Date(T0 - 168 * HOUR).toISOString() }), q, now));
    expect(resonanceScore(sig({ coherenceValue: 0.95 }), q, now)).toBeGreaterThan(resonanceScore(sig({ coherenceValue: 0.3 }), q, now));
    expect(resonanceScore(sig(), q, now)).toBeGreaterThan(0);
    expect(phaseDistance([0, 3], [2 * Math.PI - 0.1, 3])).toBeCloseTo(0.1, 12);
  });
});

describe("temporal memory", () => {
  function memory(clock: { now: number }, sealed: unknown[] = []) {
    return new TemporalMemory({}, () => clock.now, (_s, payload) => sealed.push(payload));
  }

  it("encodes only above the attention threshold unless forced, and hands each signature to the sealer", () => {
    const clock = { now: T0 };
    const sealed: unknown[] = [];
    const m = memory(clock, sealed);
    expect(m.encode({ coherence: 0.5, angles: [1, 2] })).toBeUndefined();
    const s = m.encode({ coherence: 0.85, angles: [1, 2] }, { context: { b: 1, a: [2] } })!;
    expect(s.strength).toBe(MemoryStrength.SEMANTIC);
    expect(s.decayRate).toBeCloseTo(0.01 * (1 - 0.425), 15);
    expect(s.contextHash).toHaveLength(16);
    const forced = m.encode({ coherence: 0.1 }, { force: true })!;
    expect(forced.strength).toBe(MemoryStrength.TRANSIENT);
    expect(m.size).toBe(2);
    expect(sealed).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(sealed[0]))).toEqual(sealed[0]);
  });

  it("encodes engine states directly (angles, coherence)", () => {
    const e = new TemporalEngine({}, { startTime: T0 / 1000 });
    const st = e.temporalize("remember me", { timestamp: T0 / 1000 + 1 });
    const m = new TemporalMemory({}, () => T0);
    const s = m.encode(st, { force: true })!;
    expect(s.phaseVector).toHaveLength(384);
  });

  it("retrieves in order of relevance: coherence match, phase match, recency, strength", () => {
    const clock = { now: T0 };
    const m = memory(clock);
    const old = m.encode({ coherence: 0.9, angles: [0.5, 0.5] })!;
    clock.now += 48 * HOUR;
    const recent = m.encode({ coherence: 0.9, angles: [0.5, 0.5] })!;
    const farPhase = m.encode({ coherence: 0.9, angles: [2.5, 2.5] })!;
    const lowC = m.encode({ coherence: 0.72, angles: [0.5, 0.5] })!;
    const ranked = m.retrieve({ coherence: 0.9, angles: [0.5, 0.5] }).map((r) => r.signature.signatureId);
    expect(ranked[0]).toBe(recent.signatureId);
    expect(ranked.indexOf(recent.signatureId)).toBeLessThan(ranked.indexOf(old.signatureId));
    expect(ranked.indexOf(recent.signatureId)).toBeLessThan(ranked.indexOf(farPhase.signatureId));
    expect(ranked.indexOf(recent.signatureId)).toBeLessThan(ranked.indexOf(lowC.signatureId));
    const filtered = m.retrieve({ coherence: 0.9 }, { strengthFilter: [MemoryStrength.PROCEDURAL] });
    expect(filtered.map((r) => r.signature.signatureId)).toEqual([lowC.signatureId]);
    expect(m.retrieve({ coherence: 0.9 }, { maxResults: 2 })).toHaveLength(2);
  });

  it("recognition bumps the access count of the best match above the threshold", () => {
    const clock = { now: T0 };
    const m = memory(clock);
    const s = m.encode({ coherence: 0.96, angles: [0.1, 0.2] })!;
    const hit = m.recognize({ coherence: 0.96, angles: [0.1, 0.2] });
    expect(hit?.signatureId).toBe(s.signatureId);
    expect(s.accessCount).toBe(1);
    expect(m.recognize({ coherence: 0.0, angles: [3, 3] }, 0.99)).toBeUndefined();
  });

  it("consolidates: strengthens the accessed, prunes the decayed, accelerates the rest", () => {
    const clock = { now: T0 };
    const m = new TemporalMemory({ decayBase: 0.2 }, () => clock.now);
    const a = m.encode({ coherence: 0.9, angles: [0.1] })!;
    const b = m.encode({ coherence: 0.9, angles: [1.5] })!;
    m.recognize({ coherence: 0.9, angles: [0.1] });
    clock.now += 1 * HOUR;
    const r1 = m.consolidate();
    expect(r1.strengthened).toBe(1);
    expect(r1.decayed).toBe(1);
    expect(m.get(b.signatureId)!.decayRate).toBeCloseTo(Math.min(0.2 * 0.55 * 1.1, 0.1), 12);
    clock.now += 200 * HOUR;
    const r2 = m.consolidate();
    expect(r2.pruned).toBe(1);
    expect(m.get(b.signatureId)).toBeUndefined();
    expect(m.get(a.signatureId)).toBeDefined();
  });

  it("echo ids are unique (the reference's were all the same)", () => {
    const clock = { now: T0 };
    const m = memory(clock);
    for (let i = 0; i < 5; i++) m.encode({ coherence: 0.9, angles: [0.1, 0.1, 0.1, 0.1, 0.1] });
    const ids = m.all().flatMap((s) => m.echoesOf(s.signatureId).map((e) => e.echoId));
    expect(ids.length).toBe(10);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stays within max memories, dropping weak ones first", () => {
    const clock = { now: T0 };
    const m = new TemporalMemory({ maxMemories: 150 }, () => clock.now);
    for (let i = 0; i < 400; i++) {
      clock.now += 1000;
      m.encode({ coherence: i % 2 === 0 ? 0.96 : 0.1, angles: [i] }, { force: true });
    }
    expect(m.size).toBeLessThanOrEqual(150);
    expect(m.identitySignatures().length).toBeGreaterThan(m.size / 2);
  });

  it("document round-trips (with echoes) and loading twice does not duplicate", () => {
    const clock = { now: T0 };
    const m = memory(clock);
    for (let i = 0; i < 3; i++) m.encode({ coherence: 0.9, angles: [0.2, 0.2, 0.2, 0.2, 0.2] });
    const doc = JSON.parse(JSON.stringify(m.toDocument())) as Record<string, unknown>;
    const n = new TemporalMemory({}, () => clock.now);
    n.loadDocument(doc);
    n.loadDocument(doc);
    expect(n.size).toBe(3);
    expect(n.all().map(signaturePayload)).toEqual(m.all().map(signaturePayload));
    expect(n.recent(1)).toHaveLength(3);
  });
});
