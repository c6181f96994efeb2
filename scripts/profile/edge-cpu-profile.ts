/**
 * A CPU profile of the local edge's Worker (the Fleet object included) through the V8 inspector that
 * `wrangler dev --inspector-port` exposes: where the object's time goes, by function, self time.
 *
 *   npx tsx scripts/profile/edge-cpu-profile.ts --inspector 9229 --seconds 20 [--out edge.cpuprofile] [--top 30]
 *
 * The .cpuprofile opens in Chrome DevTools or speedscope for a flame graph.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import WebSocket from "ws";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export async function captureCpuProfile(inspectorPort: number, seconds: number, samplingIntervalUs = 200): Promise<CpuProfile> {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  await call("Profiler.start");
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
  ws.close();
  return profile;
}

/** Self time per function (name, file, line), largest first, and the share of samples not idle. */
export function selfTimes(profile: CpuProfile): { readonly name: string; readonly ms: number; readonly share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node === undefined) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") return;
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += dt;
    const file = url.split("/").slice(-2).join("/");
    const key = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + dt);
  });
  return [...totals].map(([name, ms]) => ({ name, ms, share: busy === 0 ? 0 : ms / busy })).sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { inspector: { type: "string" }, seconds: { type: "string", default: "20" }, out: { type: "string" }, top: { type: "string", default: "30" } },
  });
  if (values.inspector === undefined) throw new Error("--inspector PORT is required (wrangler dev --inspector-port)");
  const profile = await captureCpuProfile(Number(values.inspector), Number(values.seconds));
  if (values.out !== undefined) await writeFile(values.out, JSON.stringify(profile));
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const rows = selfTimes(profile);
  const busy = rows.reduce((sum, r) => sum + r.ms, 0);
  console.log(`wall ${wallMs.toFixed(0)} ms, JavaScript busy ${busy.toFixed(0)} ms (${((100 * busy) / wallMs).toFixed(1)} %)`);
  console.log("| self ms | share | function |\n|---:|---:|---|");
  for (const row of rows.slice(0, Number(values.top))) console.log(`| ${row.ms.toFixed(1)} | ${(100 * row.share).toFixed(1)} % | ${row.name} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
