import { readFileSync } from "node:fs";
import { ScenarioError, parseScenario, replayScenario } from "../../engine/index.js";
import { type Command, UsageError } from "../command.js";

/** `replay SCENARIO.json`: runs a golden-format scenario and prints one JSON line per step. */
export const command: Command = {
  name: "replay",
  summary: "replay an engine scenario (golden-file format) and print one JSON line per step",
  usage: "replay SCENARIO.json   (a scenario object, or a golden file's first engine scenario)",
  async run(argv) {
    const [path, ...extra] = argv;
    if (path === undefined || extra.length > 0) throw new UsageError("expected exactly one argument: SCENARIO.json");
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new UsageError(`cannot read ${path} (${code})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${path} is not JSON: ${(err as Error).message}`);
    }
    // A whole golden file is accepted too: its first engine scenario is replayed.
    if (json !== null && typeof json === "object" && !("steps" in json) && Array.isArray((json as { engine?: unknown }).engine)) {
      json = (json as { engine: unknown[] }).engine[0];
    }
    let scenario;
    try {
      scenario = parseScenario(json);
    } catch (err) {
      if (err instanceof ScenarioError) throw new UsageError(`malformed scenario: ${err.message}`);
      throw err;
    }
    const out: string[] = [];
    for (const step of replayScenario(scenario)) {
      out.push(JSON.stringify(step));
      if (out.length >= 256) process.stdout.write(out.splice(0).join("\n") + "\n");
    }
    if (out.length > 0) process.stdout.write(out.join("\n") + "\n");
    return 0;
  },
};
