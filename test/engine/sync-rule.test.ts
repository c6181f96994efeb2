import { describe, expect, it } from "vitest";
import { hashAngles, type PhaseEncoder } from "../../agent/engine/encoder.js";
import { EmissaryTransducer } from "../../agent/engine/emissary.js";
import { MasterTransducer } from "../../agent/engine/master.js";
import { uniformAngles } from "../../agent/engine/phase-token.js";
import { DEFAULT_SYNC_CONFIG, SyncLayer } from "../../agent/engine/sync-layer.js";
import { transducerOverrides, type SyncRule } from "../../agent/engine/sync-rule.js";
import { EngineCore } from "../../agent/runtime/engineCore.js";
import { PhaseStream } from "../../agent/sources/phaseStream.js";

const HZ = 20;
const START = 1_800_000_000;

/** Master, Emissary and sync layer as the agent builds them for `rule`, fed phase vectors (or hashed text) on the token grid. */
function pair(rule: SyncRule) {
  let next: Float64Array | undefined;
  const encoder: PhaseEncoder = { name: "test-phase", encode: (t) => next ?? hashAngles(t) };
  let n = 0;
  const now = () => START + n / HZ;
  const tuned = transducerOverrides(rule, HZ);
  const options = { encoder, now, startTime: START, logLimit: 64, ...(tuned.tokenClockHz !== undefined ? { tokenClockHz: tuned.tokenClockHz } : {}) };
  const master = new MasterTransducer(tuned.master, options);
  const emissary = new EmissaryTransducer(tuned.emissary, options);
  const sync = new SyncLayer(master, emissary, { rule }, "sync", { logLimit: 64 });
  let was = false;
  const collapses: number[] = [];
  let accepted = 0;
  const offer = (input: number | string) => {
    n++;
    next = typeof input === "number" ? uniformAngles(input) : undefined;
    const r = sync.offer(typeof input === "string" ? input : "", now());
    if (r.sync.collapsed && !was) collapses.push(n - 1);
    was = r.sync.collapsed;
    if (r.accepted) accepted++;
    return r;
  };
  return { master, emissary, sync, offer, collapses, accepted: () => accepted };
}

/** 200 steady-phase tokens, then 200 seeded scattered ones, repeated (the phase stream's defaults under the fleet rule). */
const runs = (seed = 1) => new PhaseStream({ step: 0, coherentTokens: 200, scatterTokens: 200, seed });

describe("sync rules", () => {
  it("the reference rule stays the default of the engine's classes, with no overrides", () => {
    expect(DEFAULT_SYNC_CONFIG.rule).toBe("reference");
    expect(transducerOverrides("reference", HZ)).toEqual({ master: {}, emissary: {} });
    expect(transducerOverrides("fleet", HZ)).toEqual({
      master: { omega: 2 * Math.PI * HZ },
      emissary: { omega: 2 * Math.PI * HZ, historyMultiplier: 2 },
      tokenClockHz: HZ,
    });
    expect(transducerOverrides("fleet", 100).emissary.historyMultiplier).toBe(10);
    expect(transducerOverrides("fleet", 1).emissary.historyMultiplier).toBe(1);
    expect(() => transducerOverrides("fleet", 0)).toThrow(RangeError);
    const m = new MasterTransducer();
    expect(() => new SyncLayer(m, new EmissaryTransducer(), { rule: "kairos" as SyncRule })).toThrow(/rule/);
    expect(() => new MasterTransducer({}, { tokenClockHz: -1 })).toThrow(/tokenClockHz/);
  });

  it("fleet: a steady phase collapses the pair at its 10th input (the warm-up), and again in every later coherent run", () => {
    const p = pair("fleet");
    const s = runs();
    for (let i = 0; i < 2000; i++) p.offer(s.next());
    // Deterministic: the same ticks on every run. The first at the end of the warm-up (10 inputs),
    // then one inside each later coherent run (runs start at 400, 800, 1200, 1600), once the
    // Emissary's ten seconds are mostly coherent again.
    expect(p.collapses).toEqual([9, 569, 972, 1371, 1773]);
    p.collapses.forEach((tick) => expect(tick % 400).toBeLessThan(200));
  });

  it("fleet: no sync collapse before both transducers hold their warm-up, even though fresh engines agree", () => {
    const p = pair("fleet");
    for (let i = 0; i < 9; i++) expect(p.offer(0).sync.collapsed).toBe(false);
    expect(p.offer(0).sync.collapsed).toBe(true);
    // Without the warm-up, the pair's very first input would collapse it: one term each, |T| = 1.
    const fresh = pair("fleet");
    fresh.offer(0);
    expect(fresh.sync.synchronize(START).synchronizedCoherence).toBeGreaterThan(0.8);
  });

  it("fleet: scattered phases and text never collapse the pair", () => {
    const scattered = pair("fleet");
    const s = new PhaseStream({ step: 0, coherentTokens: 1, scatterTokens: 1e9, seed: 3 });
    s.next();
    for (let i = 0; i < 2400; i++) scattered.offer(s.next());
    expect(scattered.collapses).toEqual([]);
    const text = pair("fleet");
    for (let i = 0; i < 2400; i++) text.offer(`word${i % 97}`);
    expect(text.collapses).toEqual([]);
  });

  it("fleet: a dissipated input is refused by the layer but integrated by both transducers, so the pair re-aligns", () => {
    const p = pair("fleet");
    const s = runs();
    let dissipated = 0;
    for (let i = 0; i < 800; i++) {
      const before = p.master.engine.integrationCount;
      const r = p.offer(s.next());
      expect(p.master.engine.integrationCount).toBe(before + 1);
      if (!r.accepted) {
        dissipated++;
        expect(r.master).toBeDefined();
        expect(r.dissipation.reason).toBe("Phase misalignment beyond threshold");
      }
    }
    expect(dissipated).toBeGreaterThan(0);
    expect(p.accepted()).toBeGreaterThan(600);
  });

  it("reference: the same coherent runs never collapse at 20 Hz, and a dissipated input leaves the Master alone", () => {
    const p = pair("reference");
    const s = runs();
    let masterAfterFreeze: number | undefined;
    for (let i = 0; i < 2000; i++) {
      const before = p.master.engine.integrationCount;
      const r = p.offer(s.next());
      if (!r.accepted) {
        expect(r.master).toBeUndefined();
        expect(p.master.engine.integrationCount).toBe(before);
        masterAfterFreeze ??= before;
      }
    }
    expect(p.collapses).toEqual([]);
    expect(masterAfterFreeze).toBeDefined();
    expect(p.accepted()).toBeLessThan(20);
  });
});

describe("EngineCore sync rule", () => {
  const feed = (rule: SyncRule | undefined, next: (i: number) => { type: "phase"; phases: number[]; source: string } | { type: "text"; text: string; source: string }, n: number) => {
    const core = new EngineCore({ hz: HZ, nowMs: () => START * 1000, ...(rule ? { syncRule: rule } : {}) });
    const kinds: Record<string, number> = {};
    for (let i = 0; i < n; i++) for (const seal of core.step(next(i), 1 / HZ).seals) kinds[seal.kind] = (kinds[seal.kind] ?? 0) + 1;
    return { core, kinds };
  };
  const phaseRuns = () => {
    const s = runs();
    return () => ({ type: "phase" as const, phases: Array.from(uniformAngles(s.next())), source: "t" });
  };

  it("defaults to fleet: coherent runs seal a sync.collapse and its memory.signature each; text seals none", () => {
    const { core, kinds } = feed(undefined, phaseRuns(), 2000);
    expect(core.syncRule).toBe("fleet");
    expect(kinds["sync.collapse"]).toBe(5);
    expect(kinds["memory.signature"]).toBe(5);
    const text = feed(undefined, (i) => ({ type: "text", text: `w${i % 97}`, source: "t" }), 2000);
    expect(text.kinds["sync.collapse"]).toBeUndefined();
  });

  it("reference: the same stream seals no collapse", () => {
    const { kinds } = feed("reference", phaseRuns(), 2000);
    expect(kinds["sync.collapse"]).toBeUndefined();
    expect(kinds["memory.signature"]).toBeUndefined();
    expect(kinds["sync.dissipation"]).toBeGreaterThan(1900);
    expect(() => new EngineCore({ hz: HZ, syncRule: "x" as SyncRule })).toThrow(/syncRule/);
  });
});
