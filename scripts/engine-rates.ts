/**
 * Acceptance, dissipation and collapse rates of the real engine per stream kind, and the records an
 * agent seals per hour by kind (docs/engine.md, "Rates by stream"). Drives the agent's own
 * EngineCore and TickPipeline, sealing into a real Ledger in a temporary directory, at 20 Hz of
 * simulated time: one token per tick, wall time advanced by exactly 50 ms per tick, no sleeping.
 *
 *   npx tsx scripts/engine-rates.ts [minutes=20] [hz=20] [rules=fleet,reference]
 *
 * Prints a Markdown table per sync rule. Deterministic: same numbers on every run and machine.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LamportClock } from "../shared/causality/lamport-clock.js";
import { uniformAngles } from "../agent/engine/phase-token.js";
import { agentIdFromPublicKey } from "../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../agent/identity/deviceKey.js";
import { Ledger } from "../agent/ledger/ledger.js";
import { EngineCore } from "../agent/runtime/engineCore.js";
import { MeshOscillator } from "../agent/runtime/meshOscillator.js";
import { TickPipeline } from "../agent/runtime/tickPipeline.js";
import { TokenQueue, type QueuedToken } from "../agent/runtime/tokenQueue.js";
import { defaultPhaseStep, PhaseStream } from "../agent/sources/phaseStream.js";
import { SYNC_RULES, type SyncRule } from "../agent/engine/sync-rule.js";

const minutes = Number(process.argv[2] ?? 20);
const hz = Number(process.argv[3] ?? 20);
const rules = (process.argv[4] ?? "fleet,reference").split(",") as SyncRule[];
if (!(minutes > 0) || !(hz > 0) || !rules.every((r) => SYNC_RULES.includes(r))) {
  throw new Error("usage: engine-rates.ts [minutes>0] [hz>0] [rules: fleet,reference]");
}

/** The repository's own docs, word by word, looped: natural text with natural repetition. */
function textWords(): string[] {
  const dir = fileURLToPath(new URL("../docs/", import.meta.url));
  const words: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".md")).sort()) words.push(...readFileSync(join(dir, f), "utf8").split(/\s+/).filter(Boolean));
  return words;
}

interface Stream {
  readonly name: string;
  next(i: number): QueuedToken;
}

const text = (t: string): QueuedToken => ({ type: "text", text: t, source: "rates" });
// A phase token "φ:x" reaches the engine as exactly this vector (the phase-token encoder's output;
// test/engine/phase-encoders.test.ts); fed as a phase input so the same script runs on a tree
// without that encoder (the "before" measurement).
const phase = (x: number): QueuedToken => ({ type: "phase", phases: Array.from(uniformAngles(x)), source: "rates" });

const words = textWords();
const motif = "the quick brown fox jumps over the lazy dog".split(" ");
function streams(rule: SyncRule): Stream[] {
  const step = defaultPhaseStep(hz, rule);
  const phaseStream = (name: string, coherentTokens: number, scatterTokens: number, runStep = step): Stream => {
    const s = new PhaseStream({ step: runStep, coherentTokens, scatterTokens, seed: 1 });
    return { name, next: () => phase(s.next()) };
  };
  return [
  { name: "text (docs/*.md, word by word)", next: (i) => text(words[i % words.length]!) },
  { name: "repeated motif (9 words)", next: (i) => text(motif[i % motif.length]!) },
  { name: "97 distinct tokens cycled (w0 … w96)", next: (i) => text(`w${i % 97}`) },
  phaseStream("phase stream (--phase-stream defaults: 200 coherent / 200 scattered)", 200, 200),
  phaseStream("phase stream, demo (--phase-coherent 600 --phase-scatter 600)", 600, 600),
  phaseStream("phase stream, coherent only (--phase-scatter 0)", 1, 0),
  phaseStream(`phase stream, ${rule === "fleet" ? "ramp −2·3.14159/hz" : "constant phase"} coherent runs (200 / 200)`, 200, 200, rule === "fleet" ? defaultPhaseStep(hz, "reference") : 0),
  { name: "scattered phases only (seeded uniform)", next: (() => { const r = new PhaseStream({ step: 0, coherentTokens: 1, scatterTokens: 1e9, seed: 1 }); r.next(); return () => phase(r.next()); })() },
  ];
}

interface Row {
  name: string;
  perMinute: { accepted: number; dissipated: number; collapses: number; signatures: number };
  firstCollapseTick: number | null;
  recordsPerHour: Record<string, number>;
}

async function measure(stream: Stream, rule: SyncRule): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "bo-rates-"));
  try {
    const key = loadOrCreateDeviceKey(dir);
    const ledger = await Ledger.open({ dir: join(dir, "ledger"), key, agentId: agentIdFromPublicKey(key.publicKeyRaw), maxBytes: 1024 * 1024 * 1024, retainAckedBytes: 512 * 1024 * 1024 });
    const t0 = Date.UTC(2026, 11, 1);
    const core = new EngineCore({ hz, nowMs: () => t0, syncRule: rule });
    const queue = new TokenQueue(16);
    const pipeline = new TickPipeline(core, new MeshOscillator(1, { coupling: 2.5, maxStep: 0.05, fieldMaxAgeMs: 15_000 }), queue, ledger, new LamportClock(), { hz });
    const ticks = Math.round(minutes * 60 * hz);
    let firstCollapseTick: number | null = null;
    for (let i = 0; i < ticks; i++) {
      queue.offer([stream.next(i)]);
      const before = pipeline.counters().collapses;
      const dueMs = i * (1000 / hz);
      pipeline.onTick({ index: i, dueMs, ranMs: dueMs, latenessMs: 0 }, t0 + dueMs);
      if (firstCollapseTick === null && pipeline.counters().collapses > before) firstCollapseTick = i;
      if (i % 2000 === 1999) await ledger.flush();
    }
    await ledger.flush();
    const byKind: Record<string, number> = {};
    for (let seq = 0; seq < ledger.durableCount; ) {
      const batch = await ledger.readFrom(seq, 1000);
      if (batch.length === 0) break;
      for (const r of batch) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      seq += batch.length;
    }
    await ledger.close();
    const c = pipeline.counters();
    const per = (n: number) => n / minutes;
    const hours = minutes / 60;
    return {
      name: stream.name,
      perMinute: { accepted: per(c.tokens - c.dissipations), dissipated: per(c.dissipations), collapses: per(c.collapses), signatures: per(byKind["memory.signature"] ?? 0) },
      firstCollapseTick,
      recordsPerHour: Object.fromEntries(Object.entries(byKind).map(([k, n]) => [k, Math.round(n / hours)])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kinds = ["sync.dissipation", "witness.report", "state.digest", "sync.collapse", "memory.signature"];
const f = (x: number) => (x === 0 ? "0" : x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(`${minutes} min of simulated time at ${hz} Hz, one token per tick (${Math.round(minutes * 60 * hz)} tokens per stream)`);
for (const rule of rules) {
console.log(`\nsync rule: ${rule}\n`);
console.log("| stream | accepted /min | dissipated /min | sync collapses /min | memory signatures /min | first collapse (tick) | " + kinds.map((k) => `${k} /h`).join(" | ") + " |");
console.log("|---|---|---|---|---|---|" + kinds.map(() => "---").join("|") + "|");
for (const s of streams(rule)) {
  const r = await measure(s, rule);
  const p = r.perMinute;
  console.log(`| ${r.name} | ${f(p.accepted)} | ${f(p.dissipated)} | ${f(p.collapses)} | ${f(p.signatures)} | ${r.firstCollapseTick ?? "—"} | ${kinds.map((k) => String(r.recordsPerHour[k] ?? 0)).join(" | ")} |`);
}
}
