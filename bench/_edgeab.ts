import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startEdge } from "../test/support/edge.js";
import { issueToken } from "../test/edge/fleet-client.js";
const secs = Number(process.env.SECS ?? 30), warm = Number(process.env.WARM ?? 15000);
const variants = process.argv.slice(2);
const edge = await startEdge();
try {
  for (const v of variants) {
    const [nodeOptsS, main] = v.split("@");
    const nodeOpts = nodeOptsS!.split(" ").filter(Boolean);
    const { token } = await issueToken(edge);
    const dataDir = mkdtempSync(join(tmpdir(), "prof-"));
    const child = spawn(process.execPath, [...nodeOpts, ...(process.env.PERF ? ["--perf-basic-prof-only-functions"] : []), main ?? "/work/main/dist/agent/cli/main.js", "run", "--data-dir", dataDir, "--port", "0", "--hz", "20", "--stdin", "--log-level", "warn", "--edge", edge.url, "--token", token], { stdio: ["pipe", "pipe", "inherit"] });
    let api = ""; child.stdout.on("data", (d: Buffer) => { if (!api) { try { api = JSON.parse(d.toString().split("\n")[0]!).api; } catch {} } });
    let n = 0; const words = ["the","quick","brown","fox","jumps","over","lazy","dog","and","sings"];
    const feeder = process.env.IDLE ? null : setInterval(() => { child.stdin.write(`${words[n % 10]} ${words[(n*7)%10]}${n%13} `); n++; }, 1000/12);
    const ns = () => { let m = 0, all = 0; for (const t of readdirSync(`/proc/${child.pid}/task`)) { try { const x = Number(readFileSync(`/proc/${child.pid}/task/${t}/schedstat`, "utf8").split(" ")[0]); all += x; if (t === String(child.pid)) m = x; } catch {} } return [m, all] as const; };
    await new Promise(r => setTimeout(r, warm));
    if (process.env.PERF) spawn("perf", ["record", "-F", "2000", "-g", "-o", "/tmp/prof/perf-edge.data", "-p", String(child.pid), "--", "sleep", String(secs)], { stdio: "ignore" });
    const [m0, a0] = ns(); const t0 = performance.now();
    await new Promise(r => setTimeout(r, secs * 1000));
    const [m1, a1] = ns(); const el = (performance.now() - t0) * 1e6;
    console.log(`${v.padEnd(70)} main ${((m1-m0)/el*100).toFixed(2)}%  all ${((a1-a0)/el*100).toFixed(2)}%`);
    if (process.env.METRICS) { const t = await (await fetch(api + "/metrics")).text(); console.log(t.split("\n").filter((l) => /link|sealed|tokens_processed|audit|checkpoint|inclusion/.test(l) && !l.startsWith("#")).join("\n")); }
    if (feeder) clearInterval(feeder);
    child.kill("SIGTERM"); await new Promise(r => child.once("exit", r));
  }
} finally { await edge.dispose(); }
