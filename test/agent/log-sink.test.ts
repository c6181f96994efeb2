/**
 * Log lines over a real pipe whose reader stalls (a child process that does not read its stdin):
 * what waits in the agent stays bounded, the loss is counted and reported once the reader catches
 * up.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { boundedLineSink } from "../../agent/runtime/logSink.js";

describe("bounded log sink", () => {
  it("drops lines past its limit while the reader stalls, then says how many", async () => {
    // Reads nothing for 1 s (the pipe fills), then copies everything to its stdout.
    const reader = spawn("sh", ["-c", "sleep 1; cat"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    reader.stdout.setEncoding("utf8");
    reader.stdout.on("data", (d: string) => (out += d));
    const limit = 64 * 1024;
    const sink = boundedLineSink(reader.stdin, limit);
    const line = JSON.stringify({ level: "info", msg: "x".repeat(1000) });
    let peak = 0;
    for (let i = 0; i < 2000; i++) {
      sink(line);
      peak = Math.max(peak, reader.stdin.writableLength);
    }
    // 2 MB offered; the pipe holds 64 KiB, the sink at most its limit plus one line.
    expect(peak).toBeLessThanOrEqual(limit + line.length + 1);
    await new Promise<void>((resolve) => reader.stdin.once("drain", () => resolve()));
    await new Promise((r) => setTimeout(r, 100));
    reader.stdin.end();
    await new Promise((r) => reader.once("exit", r));
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; dropped?: number });
    const report = lines.find((l) => l.dropped !== undefined);
    expect(report?.msg).toBe("dropped log lines: the log reader did not keep up");
    // Every line offered was either delivered or counted.
    expect(lines.length - 1 + report!.dropped!).toBe(2000);
  });
});
