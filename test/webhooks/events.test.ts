import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { envelopeSchema, EVENT_CATALOG, EVENT_TYPES, validEventData, type EventType } from "../../shared/webhooks/index.js";

/** The JSON examples under "## Event catalog" in docs/webhooks.md, so the docs cannot drift from the schemas. */
function documentedExamples(): unknown[] {
  const md = readFileSync(new URL("../../docs/webhooks.md", import.meta.url), "utf8");
  const start = md.indexOf("\n## Event catalog\n");
  const end = md.indexOf("\n## ", start + 1);
  const section = md.slice(start, end);
  return [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!));
}

describe("event catalog", () => {
  it("has the issue's event types, each with a version", () => {
    expect(EVENT_TYPES.sort()).toEqual(
      [
        "agent.approved", "agent.enrolled", "agent.offline", "agent.online", "agent.quarantined", "agent.released", "agent.revoked",
        "checkpoint.published", "log.inconsistency", "agent.log_inconsistent", "mesh.locked", "mesh.unlocked", "sync.collapse", "webhook.test",
      ].sort(),
    );
    for (const type of EVENT_TYPES) expect(EVENT_CATALOG[type].version).toBeGreaterThanOrEqual(1);
  });

  it("docs/webhooks.md has one example per type, each a valid envelope whose data its schema accepts", () => {
    const examples = documentedExamples();
    const types = new Set<string>();
    for (const example of examples) {
      const envelope = envelopeSchema.parse(example);
      expect(envelope.version).toBe(EVENT_CATALOG[envelope.type].version);
      expect(validEventData(envelope.type, envelope.data), JSON.stringify(example)).toBe(true);
      types.add(envelope.type);
    }
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it("the schemas refuse data missing a required member or with a malformed agent id", () => {
    const bad: [EventType, unknown][] = [
      ["agent.online", {}],
      ["agent.online", { agentId: "ag_XYZ" }],
      ["agent.quarantined", { agentId: "ag_" + "0".repeat(32) }],
      ["sync.collapse", { agentId: "ag_" + "0".repeat(32), seq: -1, index: 0, sealedAt: "2026-12-06T00:00:00Z", payload: {} }],
      ["mesh.locked", { r: 1.5, threshold: 0.8, dwellMs: 0, agents: 1 }],
      ["checkpoint.published", { size: 1 }],
    ];
    for (const [type, data] of bad) expect(validEventData(type, data), `${type} ${JSON.stringify(data)}`).toBe(false);
  });
});
