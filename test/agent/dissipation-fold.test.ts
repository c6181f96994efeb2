import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LamportClock } from "../../shared/causality/lamport-clock.js";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { Ledger } from "../../agent/ledger/ledger.js";
import { recordPayload } from "../../agent/ledger/record.js";
import { DissipationFold, type DissipationEvent } from "../../agent/runtime/dissipationFold.js";
import { EngineCore } from "../../agent/runtime/engineCore.js";
import { MeshOscillator } from "../../agent/runtime/meshOscillator.js";
import { TickPipeline } from "../../agent/runtime/tickPipeline.js";
import { TokenQueue } from "../../agent/runtime/tokenQueue.js";

const ev = (phaseDifference: number, engineTime = 100, reason = "Phase misalignment beyond threshold"): DissipationEvent => ({
  reason,
  phaseDifference,
  masterCoherence: 0.36,
  emissaryCoherence: phaseDifference / 10,
  engineTime,
});

describe("dissipation fold (pure)", () => {
  it("counts, per reason, extremes and first/last times in the window, then starts a new window", () => {
    const fold = new DissipationFold({ minIntervalMs: 1000, extremeMargin: 0.05 });
    const t0 = Date.UTC(2026, 11, 6);
    const diffs = [0.5, 0.52, 0.49, 0.51, 0.5];
    diffs.forEach((d, i) => fold.dissipated(ev(d, 100 + i * 0.05), t0 + i * 50));
    fold.dissipated(ev(0.5, 100.25, "other reason"), t0 + 250);
    const report = fold.takeReport() as Record<string, unknown>;
    expect(report).toEqual({
      count: 6,
      sealed: 1, // only the first of the epoch
      notableFolded: 0,
      byReason: { "Phase misalignment beyond threshold": 5, "other reason": 1 },
      notable: { "first-in-epoch": 1 },
      phaseDifference: { min: 0.49, max: 0.52 },
      masterCoherence: { min: 0.36, max: 0.36 },
      emissaryCoherence: { min: 0.049, max: 0.052 },
      first: new Date(t0).toISOString(),
      last: new Date(t0 + 250).toISOString(),
      firstEngineTime: 100,
      lastEngineTime: 100.25,
    });
    expect(fold.pending).toBe(false);
    expect(fold.takeReport()).toEqual({ count: 0, sealed: 0 });
  });

  it("seals the notable ones: first in epoch, after a collapse, onset after a sustained run, new extremes beyond the margin", () => {
    const fold = new DissipationFold({ minIntervalMs: 0, extremeMargin: 0.05, onsetRunTokens: 20 });
    let t = 0;
    const next = (d: number) => fold.dissipated(ev(d), (t += 50)).notable;
    expect(next(0.5)).toEqual(["first-in-epoch"]);
    expect(next(0.54)).toBeUndefined(); // within the margin of the max
    expect(next(0.46)).toBeUndefined(); // within the margin of the min
    expect(next(0.6)).toEqual(["new-max"]);
    expect(next(0.3)).toEqual(["new-min"]);
    fold.collapsed();
    expect(next(0.45)).toEqual(["after-collapse"]);
    expect(next(0.45)).toBeUndefined(); // only the first after the collapse
    for (let i = 0; i < 19; i++) fold.accepted();
    expect(next(0.45)).toBeUndefined(); // 19 accepted: a flicker, not an onset
    for (let i = 0; i < 20; i++) fold.accepted();
    expect(next(0.45)).toEqual(["onset"]);
    fold.resetEpoch();
    expect(next(0.45)).toEqual(["first-in-epoch"]);
  });

  it("seals at most one notable dissipation per interval; the others are folded and counted", () => {
    const fold = new DissipationFold({ minIntervalMs: 1000, extremeMargin: 0 });
    const first = fold.dissipated(ev(0.3), 0);
    expect(first).toEqual({ notable: ["first-in-epoch"], alsoDissipatedSinceLast: 0 });
    // A rising Δ is a new max every time, but within the second only the first one is sealed.
    for (let i = 1; i <= 10; i++) expect(fold.dissipated(ev(0.3 + i * 0.01), i * 50).notable).toBeUndefined();
    const later = fold.dissipated(ev(0.5), 1000);
    expect(later).toEqual({ notable: ["new-max"], alsoDissipatedSinceLast: 10 });
    expect(fold.takeReport()).toMatchObject({ count: 12, sealed: 2, notableFolded: 10 });
  });
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("tick pipeline folding (real engine, real ledger)", () => {
  it("a misaligned text stream seals its dissipations in the witness reports, not one record a second", async () => {
    const data = mkdtempSync(join(tmpdir(), "bo-fold-"));
    dirs.push(data);
    const key = loadOrCreateDeviceKey(data);
    const ledger = await Ledger.open({ dir: join(data, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw) });
    const queue = new TokenQueue(1000);
    // The reference rule: a text stream through it stays misaligned (docs/engine.md, "Sync rules").
    const pipeline = new TickPipeline(new EngineCore({ hz: 20, nowMs: () => 1_800_000_000_000, syncRule: "reference" }), new MeshOscillator(1, { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 5000 }), queue, ledger, new LamportClock(), {
      hz: 20,
      witnessEverySeconds: 10,
      digestEverySeconds: 30,
    });
    queue.offer(Array.from({ length: 1000 }, (_, i) => ({ type: "text" as const, text: `token-${i}`, source: "t" })));
    const t0 = 1_800_000_000_000;
    const ticks = 1205; // 60 s and a bit: 6 witness reports, 5 ticks after the last one
    for (let i = 0; i < ticks; i++) {
      if (queue.depth < 10) queue.offer(Array.from({ length: 100 }, (_, k) => ({ type: "text" as const, text: `more-${i}-${k}`, source: "t" })));
      pipeline.onTick({ index: i, dueMs: i * 50, ranMs: i * 50, latenessMs: 0 }, t0 + i * 50);
    }
    expect(pipeline.flushFolded()).toBe(true); // the 5 ticks after the last report
    await ledger.flush();
    const records = await ledger.readFrom(0, 1000);
    const c = pipeline.counters();
    const individual = records.filter((r) => r.kind === "sync.dissipation");
    const reports = records.filter((r) => r.kind === "witness.report").map((r) => recordPayload(r) as { dissipations: { count: number; sealed: number; phaseDifference?: { min: number; max: number } } });
    expect(reports).toHaveLength(7);
    // Nothing lost: the reports' counts add up to every dissipation; the sealed ones are counted too.
    expect(reports.reduce((n, r) => n + r.dissipations.count, 0)).toBe(c.dissipations);
    expect(reports.reduce((n, r) => n + r.dissipations.sealed, 0)).toBe(individual.length);
    expect(c.dissipations).toBeGreaterThan(1100);
    // Before folding this was one record a second (60); now only the notable ones.
    expect(individual.length).toBeGreaterThanOrEqual(1);
    expect(individual.length).toBeLessThanOrEqual(5);
    const first = recordPayload(individual[0]!) as { notable: string[]; event: { reason: string; phaseDifference: number }; alsoDissipatedSinceLast: number };
    expect(first.notable).toContain("first-in-epoch");
    expect(first.event.reason).toBe("Phase misalignment beyond threshold");
    // Each report's extremes bound its window's Δ; the sealed events lie within the epoch's.
    for (const r of reports.slice(0, 6)) expect(r.dissipations.phaseDifference!.min).toBeLessThanOrEqual(r.dissipations.phaseDifference!.max);
    // A reset starts a new epoch: its first dissipation is notable again.
    const reset = pipeline.requestReset();
    for (let i = ticks; i < ticks + 200; i++) {
      if (queue.depth < 10) queue.offer(Array.from({ length: 100 }, (_, k) => ({ type: "text" as const, text: `again-${i}-${k}`, source: "t" })));
      pipeline.onTick({ index: i, dueMs: i * 50, ranMs: i * 50, latenessMs: 0 }, t0 + i * 50);
    }
    await reset;
    await ledger.flush();
    const after = (await ledger.readFrom(records.length, 1000)).filter((r) => r.kind === "sync.dissipation");
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect((recordPayload(after[0]!) as { notable: string[] }).notable).toContain("first-in-epoch");
    await ledger.close();
  });
});
