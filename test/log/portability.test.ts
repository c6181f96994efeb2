/** shared/ must run unchanged in workerd: no Node built-ins, no Buffer, no process, no async crypto. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const shared = fileURLToPath(new URL("../../shared/", import.meta.url));

describe("log modules are portable", () => {
  for (const dir of ["log", "note", "checkpoint", "encoding", "dashboard"]) {
    for (const file of readdirSync(join(shared, dir)).filter((f) => f.endsWith(".ts"))) {
      it(`${dir}/${file}`, () => {
        // Strip comments so prose may mention these names.
        const code = readFileSync(join(shared, dir, file), "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/\/\/.*$/gm, "");
        expect(code).not.toMatch(/from\s+["']node:/);
        expect(code).not.toMatch(/\bBuffer\b/);
        expect(code).not.toMatch(/\bprocess\./);
        expect(code).not.toMatch(/crypto\.subtle|\bawait\b|\basync\b/);
      });
    }
  }
});

// The audit fetches (async by nature, with an injected fetch) but must run in Node, workerd and the browser.
describe("audit modules are portable", () => {
  for (const file of readdirSync(join(shared, "audit")).filter((f) => f.endsWith(".ts"))) {
    it(`audit/${file}`, () => {
      const code = readFileSync(join(shared, "audit", file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      expect(code).not.toMatch(/from\s+["']node:/);
      expect(code).not.toMatch(/\bBuffer\b/);
      expect(code).not.toMatch(/\bprocess\./);
      expect(code).not.toMatch(/crypto\.subtle/);
    });
  }
});
