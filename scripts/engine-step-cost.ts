/**
 * Cost of one agent engine step (EngineCore.step: Master, Emissary, sync layer, witnessing,
 * memory) in steady state at 20 Hz, under both sync rules, for a text stream and the demo phase
 * stream (docs/engine.md, "How it is fast"). 6,000 steps of warm-up, then 12,000 timed.
 *
 *   node --expose-gc --import tsx scripts/engine-step-cost.ts
 */
import { uniformAngles } from "../agent/engine/phase-token.js";
import { SYNC_RULES } from "../agent/engine/sync-rule.js";
import { EngineCore } from "../agent/runtime/engineCore.js";
import type { QueuedToken } from "../agent/runtime/tokenQueue.js";
import { PhaseStream } from "../agent/sources/phaseStream.js";

const WARMUP = 6000;
const TIMED = 12000;
for (const rule of SYNC_RULES) {
  for (const kind of ["text", "phase"] as const) {
    const core = new EngineCore({ hz: 20, nowMs: () => 1_800_000_000_000, syncRule: rule });
    const stream = new PhaseStream({ step: 0, coherentTokens: 600, scatterTokens: 600, seed: 1 });
    const token = (i: number): QueuedToken =>
      kind === "text" ? { type: "text", text: `w${i % 4099}`, source: "cost" } : { type: "phase", phases: Array.from(uniformAngles(stream.next())), source: "cost" };
    for (let i = 0; i < WARMUP; i++) core.step(token(i), 0.05);
    const ms: number[] = [];
    for (let i = WARMUP; i < WARMUP + TIMED; i++) {
      const input = token(i);
      const t = process.hrtime.bigint();
      core.step(input, 0.05);
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    ms.sort((a, b) => a - b);
    (globalThis as { gc?: () => void }).gc?.();
    const q = (f: number) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))]!.toFixed(3);
    console.log(`${rule} ${kind}: median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
  }
}
