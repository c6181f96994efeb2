import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { LogError, verifyConsistency, verifyInclusion } from "../../shared/log/index.js";
import { readJson, vectorFiles, type ConsistencyVector, type InclusionVector } from "./fixtures.js";

const b64 = (s: string) => decodeBase64(s);

function outcome(run: () => void): { ok: true } | { ok: false; error: unknown } {
  try {
    run();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

describe("transparency-dev/merkle inclusion vectors", () => {
  const files = vectorFiles("inclusion");
  it("has the vectors", () => expect(files.length).toBeGreaterThan(70));
  for (const { name, path } of files) {
    const v = readJson<InclusionVector>(path);
    it(`${name}: ${v.wantErr ? "rejected" : "verifies"}`, () => {
      const r = outcome(() => verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root)));
      if (v.wantErr) {
        expect(r.ok).toBe(false);
        // Every rejection is a LogError with a stable code, never a crash.
        if (!r.ok) expect(r.error).toBeInstanceOf(LogError);
      } else {
        expect(r).toEqual({ ok: true });
      }
    });
  }
});

describe("transparency-dev/merkle consistency vectors", () => {
  const files = vectorFiles("consistency");
  it("has the vectors", () => expect(files.length).toBeGreaterThan(80));
  for (const { name, path } of files) {
    const v = readJson<ConsistencyVector>(path);
    it(`${name}: ${v.wantErr ? "rejected" : "verifies"}`, () => {
      const r = outcome(() => verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2)));
      if (v.wantErr) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toBeInstanceOf(LogError);
      } else {
        expect(r).toEqual({ ok: true });
      }
    });
  }
});

describe("errors carry data", () => {
  it("a root mismatch holds both roots", () => {
    const v = readJson<InclusionVector>(vectorFiles("inclusion").find((f) => f.name === "inclusion/1/random-root.json")!.path);
    const r = outcome(() => verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root)));
    expect(r.ok).toBe(false);
    const err = (r as { error: LogError }).error;
    expect(err.code).toBe("ROOT_MISMATCH");
    expect(err.details["expected"]).toMatch(/^[0-9a-f]{64}$/);
    expect(err.details["calculated"]).toMatch(/^[0-9a-f]{64}$/);
    expect(err.details["expected"]).not.toBe(err.details["calculated"]);
  });
  it("an out-of-range index names the bound and the numbers", () => {
    const r = outcome(() => verifyInclusion(new Uint8Array(32), 5, 3, [], new Uint8Array(32)));
    const err = (r as { error: LogError }).error;
    expect(err.code).toBe("INDEX_OUT_OF_RANGE");
    expect(err.details).toEqual({ index: 5, size: 3 });
    expect(err.message).toBe("index 5 out of range for tree size 3");
  });
  it("a short proof names the lengths", () => {
    const r = outcome(() => verifyInclusion(new Uint8Array(32), 0, 8, [new Uint8Array(32)], new Uint8Array(32)));
    expect((r as { error: LogError }).error.details).toEqual({ got: 1, want: 3 });
  });
  it("consistency from the empty tree is refused (the vectors' rule)", () => {
    const r = outcome(() => verifyConsistency(0, 5, [], new Uint8Array(32), new Uint8Array(32)));
    expect((r as { error: LogError }).error.code).toBe("EMPTY_TREE_CONSISTENCY");
  });
});
