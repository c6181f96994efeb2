/** The simulator's pure parts: flags, percentiles, cutting samples into phases, the saturation verdict. */
import { describe, expect, it } from "vitest";
import { phaseRow } from "../../scripts/simulate/phase-report.js";
import { withinLimits } from "../../scripts/simulate/run-simulation.js";
import { saturationReasons } from "../../scripts/simulate/saturation.js";
import { emptySamples } from "../../scripts/simulate/sim-recorder.js";
import { parseSimOptions, SimUsageError, threadsFor } from "../../scripts/simulate/sim-options.js";
import { percentile, spread } from "../../scripts/simulate/stats.js";

describe("simulate options", () => {
  it("defaults, sweep lists and burst plans", () => {
    const o = parseSimOptions([]);
    expect(o).toMatchObject({ agents: 100, rate: 2, records: 1, batch: 1, durationS: 30, rampS: 0, sweep: undefined, burst: undefined });
    expect(parseSimOptions(["--sweep"])).toMatchObject({ sweep: [100, 200, 300, 500, 750, 1000] });
    expect(parseSimOptions(["--sweep", "--json"])).toMatchObject({ sweep: [100, 200, 300, 500, 750, 1000], json: true });
    expect(parseSimOptions(["--sweep", "10,20"])).toMatchObject({ sweep: [10, 20] });
    expect(parseSimOptions(["--burst-factor", "3", "--duration", "7"])).toMatchObject({ burst: { factor: 3, seconds: 10, share: 1, recoverySeconds: 7 } });
  });

  it("refuses what it cannot run", () => {
    for (const args of [["--agents", "0"], ["--rate", "x"], ["--edge", "ftp://x"], ["--edge", "http://x"], ["--burst-seconds", "3"], ["--sweep", "--burst-factor", "2"], ["--nope"]]) {
      expect(() => parseSimOptions(args), args.join(" ")).toThrow(SimUsageError);
    }
    expect(parseSimOptions(["--edge", "http://x:1/", "--admin-token", "t"])).toMatchObject({ edgeUrl: "http://x:1", adminToken: "t" });
    expect(parseSimOptions(["--edge", "http://x:1"], { SIMULATE_ADMIN_TOKEN: "t" })).toMatchObject({ adminToken: "t" });
  });

  it("one thread per 400 agents, at most 4, unless told", () => {
    expect([1, 400, 401, 1000, 5000].map((n) => threadsFor({ threads: 0 }, n))).toEqual([1, 1, 2, 3, 4]);
    expect(threadsFor({ threads: 8 }, 3)).toBe(3);
  });
});

describe("simulate figures", () => {
  it("nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(spread(values)).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(percentile([], 50)).toBeNull();
    expect(spread([7])).toEqual({ count: 1, p50: 7, p99: 7, max: 7 });
  });

  it("cuts samples into a phase: rates, refusals, drops, closes of well-behaved agents", () => {
    const s = emptySamples();
    s.connects.push(100, 5, 200, 6, 300, 7);
    for (let t = 1000; t < 3000; t += 100) s.summariesSent.push(t);
    s.summariesSent.push(5000); // outside the phase
    s.errors.push([1500, "rate_limited", "summary", 0], [1600, "rate_limited", "", 1], [2500, "lamport_jump", "summary", 2], [4000, "bad_message", "", 0]);
    s.closes.push([2000, 1008, 1], [2100, 1008, 2], [3500, 4000, 0]);
    s.recordsAcked.push(1200, 3, 2200, 1);
    s.ackLatency.push(1100, 40, 2100, 60, 4100, 999);
    const row = phaseRow(s, [], { name: "steady", from: 1000, to: 3000 }, (i) => i !== 2);
    expect(row.summariesSentPerS).toBe(10);
    expect(row.summariesAcceptedPerS).toBe(8.5); // 20 sent − 2 refused − 1 dropped, over 2 s
    expect(row.errors).toEqual({ "rate_limited(summary)": 1, rate_limited: 1, "lamport_jump(summary)": 1 });
    expect(row.closes).toEqual({ "1008": 2 });
    expect(row).toMatchObject({ disconnected: 2, disconnectedWellBehaved: 1, connectedAtEnd: 1, recordsAckedPerS: 2, edgeCpuPct: null });
    expect(row.ackMs).toEqual({ count: 2, p50: 40, p99: 60, max: 60 });
  });

  it("saturation: a clean run holds; latency, errors and disconnects each saturate it", () => {
    const s = emptySamples();
    s.connects.push(10, 5);
    s.fieldBroadcast.push(1500, 10);
    s.fieldE2e.push(1500, 600);
    s.ackLatency.push(1500, 20);
    const clean = phaseRow(s, [], { name: "steady", from: 1000, to: 2000 }, () => true);
    expect(saturationReasons([clean], 1, 1, 500)).toEqual([]);
    expect(saturationReasons([clean], 1, 2, 500)).toEqual(["1 of 2 agents never connected"]);
    s.ackLatency.push(1600, 300);
    s.fieldE2e.push(1600, 800);
    s.closes.push([1700, 1008, 0]);
    const bad = phaseRow(s, [], { name: "steady", from: 1000, to: 2000 }, () => true);
    expect(saturationReasons([bad], 1, 1, 500)).toEqual([
      "steady: field e2e p99 800 ms > 250 + 500",
      "steady: ack p99 300 ms",
      "steady: 1 errors",
      "steady: 1 disconnected",
    ]);
  });

  it("well-behaved means within summaryHz and the connection's 20 messages/s", () => {
    const rates = { rate: 2, records: 1, batch: 1, pingS: 5, tokenHz: 20 };
    expect(withinLimits(rates, 1, 2)).toBe(true);
    expect(withinLimits(rates, 2, 2)).toBe(false);
    expect(withinLimits({ ...rates, rate: 0.5 }, 4, 2)).toBe(true);
    expect(withinLimits({ ...rates, rate: 0.5, records: 10 }, 2, 2)).toBe(false);
  });
});
