import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LamportClock } from "../../shared/causality/lamport-clock.js";
import { wrapPhase } from "../../shared/kuramoto/index.js";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { Ledger } from "../../agent/ledger/ledger.js";
import { recordPayload } from "../../agent/ledger/record.js";
import { EngineCore } from "../../agent/runtime/engineCore.js";
import { MeshOscillator } from "../../agent/runtime/meshOscillator.js";
import { TickPipeline } from "../../agent/runtime/tickPipeline.js";
import { TokenQueue } from "../../agent/runtime/tokenQueue.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("mesh oscillator", () => {
  const coupling = { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 5000 };

  it("runs free at ω without a field", () => {
    const m = new MeshOscillator(1, coupling, 0);
    for (let i = 0; i < 20; i++) m.step(0.05, 1000 + i * 50);
    expect(m.theta).toBeCloseTo(1, 9);
    expect(m.view(2000).field).toBeNull();
  });

  it("is pulled toward ψ(t) extrapolated by Ω, at most maxStep per tick", () => {
    const m = new MeshOscillator(0, coupling, 0);
    const t = 1_000_000;
    m.setField({ r: 1, psi: 2, omega: 0, n: 3, t });
    const before = m.theta;
    m.step(0.05, t + 50);
    expect(m.theta - before).toBeCloseTo(0.05, 12); // K·r·sin(2)·dt = 0.11 → clamped
    for (let i = 0; i < 200; i++) m.step(0.05, t + 100 + i * 50);
    expect(Math.abs(wrapPhase(m.theta - 2))).toBeLessThan(0.01);
    // ψ moving at Ω = 0.5 rad/s: the view extrapolates it.
    m.setField({ r: 1, psi: 0, omega: 0.5, n: 3, t: t + 20_000 });
    expect(m.view(t + 22_000).field!.ageMs).toBe(2000);
    expect(m.view(t + 22_000).phaseGap).toBeCloseTo(wrapPhase(1 - m.theta), 9);
  });

  it("ignores a stale field and an older field arriving late", () => {
    const m = new MeshOscillator(0, coupling, 0);
    m.setField({ r: 1, psi: 1, omega: 0, n: 2, t: 10_000 });
    m.setField({ r: 1, psi: -1, omega: 0, n: 2, t: 9_000 });
    expect(m.view(10_100).field!.psi).toBe(1);
    m.step(0.05, 20_000); // 10 s old: beyond fieldMaxAgeMs
    expect(m.theta).toBe(0);
  });
});

describe("engine core (agent/engine)", () => {
  it("feeds text and phase tokens through Master, Emissary and the sync layer", () => {
    const core = new EngineCore({ hz: 20 });
    const first = core.step({ type: "text", text: "hello", source: "t" }, 0.05);
    expect(first.dissipated).toBe(false);
    expect(first.coherence).toBeGreaterThanOrEqual(0);
    core.step({ type: "phase", phases: Array.from({ length: 384 }, (_, i) => i / 100), source: "t" }, 0.05);
    const view = core.view();
    expect(view.master).toMatchObject({ type: "MASTER" });
    expect(view.emissary).toMatchObject({ type: "EMISSARY" });
    expect(view.sync).toHaveProperty("aligned");
    expect(core.digest()).toMatchObject({ tokens: 2 });
  });

  it("seals dissipations with their reason, and resets to a fresh state", () => {
    const core = new EngineCore({ hz: 20 });
    const kinds: string[] = [];
    for (let i = 0; i < 30; i++) for (const s of core.step({ type: "text", text: `w${i}`, source: "t" }, 0.05).seals) kinds.push(s.kind);
    expect(kinds).toContain("sync.dissipation");
    core.reset();
    expect(core.digest()).toMatchObject({ tokens: 0, sync: { dissipations: 0 } });
    expect(core.step({ type: "text", text: "again", source: "t" }, 0.05).dissipated).toBe(false);
  });
});

describe("engine core memory", () => {
  it("bounds the engine's in-RAM logs (sync records, dissipations, Emissary actions, witness logs) to syncHistory", () => {
    const core = new EngineCore({ hz: 20, syncHistory: 16 });
    let maxSync = 0;
    let maxDissipations = 0;
    let maxActions = 0;
    let everActed = 0;
    let maxWitness = 0;
    for (let i = 0; i < 600; i++) {
      core.step({ type: "text", text: `w${i % 7}`, source: "t" }, 0.05);
      const view = core.view() as unknown as { sync: { syncHistoryLength: number; dissipationsCount: number }; emissary: { actionsCount: number } };
      maxSync = Math.max(maxSync, view.sync.syncHistoryLength);
      const engines = core as unknown as { master: { witnessLog: unknown[] }; emissary: { witnessLog: unknown[] } };
      maxWitness = Math.max(maxWitness, engines.master.witnessLog.length, engines.emissary.witnessLog.length);
      maxDissipations = Math.max(maxDissipations, view.sync.dissipationsCount);
      maxActions = Math.max(maxActions, view.emissary.actionsCount);
      everActed += view.emissary.actionsCount > 0 ? 1 : 0;
    }
    // Each log fills to its limit and stays there (600 tokens would give 1,200 sync records).
    expect(maxSync).toBe(16);
    expect(maxDissipations).toBeLessThanOrEqual(16);
    expect(everActed).toBeGreaterThan(0);
    expect(maxActions).toBeLessThanOrEqual(16);
    expect(maxWitness).toBe(16);
  });
});

describe("tick pipeline", () => {
  it("takes at most one token per tick, seals digests and witness reports on schedule, rate-limits dissipations", async () => {
    const data = mkdtempSync(join(tmpdir(), "bo-pipe-"));
    dirs.push(data);
    const key = loadOrCreateDeviceKey(data);
    const ledger = await Ledger.open({ dir: join(data, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw) });
    const queue = new TokenQueue(100);
    const mesh = new MeshOscillator(1, { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 5000 });
    const lamport = new LamportClock();
    const pipeline = new TickPipeline(new EngineCore({ hz: 20 }), mesh, queue, ledger, lamport, {
      hz: 20,
      digestEverySeconds: 1,
      witnessEverySeconds: 0.5,
    });
    queue.offer(Array.from({ length: 50 }, (_, i) => ({ type: "text" as const, text: `tok${i}`, source: "t" })));
    const t0 = 1_000_000;
    for (let i = 0; i < 40; i++) pipeline.onTick({ index: i, dueMs: i * 50, ranMs: i * 50, latenessMs: 0 }, t0 + i * 50);
    const c = pipeline.counters();
    expect(c.ticks).toBe(40);
    expect(c.tokens).toBe(40);
    expect(queue.depth).toBe(10);
    expect(lamport.time).toBe(40);
    expect(mesh.theta).toBeCloseTo(wrapPhase(40 * 0.05), 9);
    await ledger.flush();
    const records = await ledger.readFrom(0, 100);
    const count = (k: string) => records.filter((r) => r.kind === k).length;
    expect(count("state.digest")).toBe(2); // every 20 ticks
    expect(count("witness.report")).toBe(4); // every 10 ticks
    // 2 s of ticks: at most one dissipation record per second, the rest counted in the next.
    expect(count("sync.dissipation")).toBeLessThanOrEqual(2);
    expect(c.dissipations).toBeGreaterThan(count("sync.dissipation"));
    const digest = recordPayload(records.find((r) => r.kind === "state.digest")!) as { ticks: number; log: { size: number } };
    expect(digest.ticks).toBe(20);
    expect(c.sealed).toBe(records.length);
    await ledger.close();
  });
});

describe("data dir lock", () => {
  it("refuses a second agent on the same data dir until the first stops", async () => {
    const { startTestAgent } = await import("./support/testAgent.js");
    const { startAgent } = await import("../../agent/runtime/agent.js");
    const first = await startTestAgent();
    const config = first.handle.config;
    await expect(startAgent({ ...config, api: { ...config.api, port: 0 } }, { log: () => {} })).rejects.toMatchObject({ code: "data_dir_locked" });
    await first.handle.stop();
    const second = await startAgent({ ...config, api: { ...config.api, port: 0 } }, { log: () => {} });
    expect(second.ledger.size).toBeGreaterThanOrEqual(0);
    await second.stop();
    rmSync(config.dataDir, { recursive: true, force: true });
  });
});
