import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { driftExcludes, fieldMembers } from "../../shared/causality/index.js";

describe("field membership under the soft drift flag", () => {
  it("excludes drifting agents only while steady ones outnumber them", () => {
    expect(driftExcludes(2, 1)).toBe(true);
    expect(driftExcludes(1, 1)).toBe(false);
    expect(driftExcludes(0, 4)).toBe(false);
    const fleet = [{ id: "a", drifting: true }, { id: "b", drifting: false }, { id: "c", drifting: false }];
    expect(fieldMembers(fleet).map((m) => m.id)).toEqual(["b", "c"]);
    // "4 online, 4 flagged": all four stay in the field, flags and all.
    const allFlagged = ["a", "b", "c", "d"].map((id) => ({ id, drifting: true }));
    expect(fieldMembers(allFlagged)).toHaveLength(4);
  });

  it("property: never empty while there is a candidate, and never holds a flagged agent while steady ones are the majority", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (flags) => {
        const members = fieldMembers(flags.map((drifting) => ({ drifting })));
        const steady = flags.filter((d) => !d).length;
        expect(members.length === 0).toBe(flags.length === 0);
        expect(members.filter((m) => !m.drifting)).toHaveLength(steady);
        if (steady > flags.length - steady) expect(members.every((m) => !m.drifting)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
