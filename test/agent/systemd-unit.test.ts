import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AGENT_UNIT_FILE, deployedNode } from "../support/systemdUnit.js";

/** Starts Node the way the unit would (its flags and tuning environment) and runs a one-liner. */
function startNode(unitText: string) {
  const { flags, env } = deployedNode(unitText);
  return spawnSync(process.execPath, [...flags, "-e", "process.stdout.write('started')"], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "", ...env },
    timeout: 20_000,
  });
}

// The shipped unit's Node settings are what the agent bench measures against the RSS and CPU
// targets; a flag Node refuses (NODE_OPTIONS accepts only some V8 flags) would stop the agent on a Pi.
describe("the systemd unit's Node settings", () => {
  it("start Node as written (flags on ExecStart, NODE_OPTIONS and MALLOC_* from Environment=)", () => {
    const unit = readFileSync(AGENT_UNIT_FILE, "utf8");
    const { flags } = deployedNode(unit);
    expect(flags.length).toBeGreaterThan(0);
    expect(flags.every((f) => f.startsWith("--"))).toBe(true);
    const r = startNode(unit);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("started");
  });

  it("the check catches a flag moved where Node refuses it (NODE_OPTIONS takes only some V8 flags)", () => {
    const unit = readFileSync(AGENT_UNIT_FILE, "utf8");
    const moved = unit
      .replace(/ --optimize-for-size/, "")
      .replace(/^Environment=MALLOC_ARENA_MAX=/m, "Environment=NODE_OPTIONS=--optimize-for-size\nEnvironment=MALLOC_ARENA_MAX=");
    expect(deployedNode(moved).env.NODE_OPTIONS).toBe("--optimize-for-size");
    const r = startNode(moved);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("not allowed in NODE_OPTIONS");
  });

  it("parses flags and environment from a unit's text, and refuses one without the agent's ExecStart", () => {
    const unit = ["[Service]", "Environment=MALLOC_ARENA_MAX=2", "Environment=BECOMINGONE_DATA_DIR=/x", "ExecStart=/usr/bin/node --a --b=1 /opt/x/dist/agent/cli/main.js run --config /c"].join("\n");
    expect(deployedNode(unit)).toEqual({ flags: ["--a", "--b=1"], env: { MALLOC_ARENA_MAX: "2" } });
    expect(() => deployedNode("[Service]\nExecStart=/usr/bin/node server.js\n")).toThrow(/ExecStart/);
  });
});
