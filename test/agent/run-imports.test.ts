import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// What a long-running `becomingone-agent run` keeps loaded is part of its memory budget on a 512 MB
// Pi (docs/agent.md, "Measured"). The agent signs and verifies with node:crypto; the portable
// pure-JS Ed25519 in shared/ (for workerd and offline tools) costs ≈ 0.7 MB resident imported and
// ≈ 3 MB once used (its precomputed tables), and a barrel import (shared/log/index.js,
// shared/note/index.js, shared/protocol/index.js) is enough to pull it in. This walks the static imports of the TypeScript
// sources the way Node resolves the compiled ones.
const root = fileURLToPath(new URL("../../", import.meta.url));

// Value imports and re-exports. `import type` / `export type` are erased by the compiler; an import
// whose specifiers are all inline `type` ones still loads the module (verbatimModuleSyntax).
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^;"']*?\sfrom\s+)?["']([^"']+)["']/gm;

function reachable(entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.map((e) => join(root, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) {
        if (!spec.startsWith("node:")) packages.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
      if (!existsSync(target)) throw new Error(`${file}: cannot resolve ${spec}`);
      queue.push(target);
    }
  }
  return { files, packages };
}

// `run` and the edge link (which the runtime imports by path when it is built in).
const RUN_ENTRIES = ["agent/cli/main.ts", "agent/cli/commands/run.ts", "agent/link/index.ts"];

describe("what `becomingone-agent run` loads", () => {
  it("never the portable Ed25519 (@noble/curves): node:crypto signs and verifies", () => {
    const { files, packages } = reachable(RUN_ENTRIES);
    // The walk sees the whole runtime: the engine, the API, the link and their packages.
    expect([...files].some((f) => f.endsWith("agent/engine/emissary.ts"))).toBe(true);
    expect([...files].some((f) => f.endsWith("agent/link/logAuditor.ts"))).toBe(true);
    expect(packages).toContain("ws");
    expect(packages).toContain("jose");
    expect([...packages].filter((p) => p.startsWith("@noble/curves"))).toEqual([]);
  });

  it("the walk does find it where it is used (the offline verify commands)", () => {
    const { packages } = reachable(["agent/cli/commands/verify-checkpoint.ts"]);
    expect(packages).toContain("@noble/curves/ed25519.js");
  });
});
