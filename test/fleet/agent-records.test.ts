import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { agentRecords } from "../../edge/fleet/agent-records.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";
import { addAgentWithKey, openFleetDb } from "./fleet-fixture.js";

describe("agent records", () => {
  it("pages one agent's records newest first, as the entries route serves them, with the payload's lamport", () => {
    const db = openFleetDb();
    const a = addAgentWithKey(db, 1_000, "a");
    const b = addAgentWithKey(db, 1_000, "b");
    const log = new GlobalLog(db.sql);
    const seal = (agent: typeof a, seq: number, payload: unknown) =>
      sealRecord({ agentId: agent.row.id, seq, kind: "state.digest", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify(payload) }, agent.secretKey);
    db.transaction(() => {
      for (let seq = 0; seq < 5; seq++) {
        log.append(seal(a, seq, seq % 2 === 0 ? { lamport: 100 + seq } : { other: true }), 1);
        log.append(seal(b, seq, {}), 1);
      }
    });
    const first = agentRecords(db.sql, a.row.id, null, 2);
    expect(first.records.map((r) => [r.seq, r.lamport])).toEqual([
      [4, 104],
      [3, null],
    ]);
    expect(first.nextBefore).toBe(3);
    const top = first.records[0]!;
    expect(top.t).toBe(new Date(1_700_000_000_004).toISOString());
    expect(top.kind).toBe("state.digest");
    expect(top.entry).toEqual(log.entries(top.index, top.index + 1)[0]);
    const rest = agentRecords(db.sql, a.row.id, first.nextBefore, 100);
    expect(rest.records.map((r) => r.seq)).toEqual([2, 1, 0]);
    expect(rest.nextBefore).toBeNull();
    expect(agentRecords(db.sql, a.row.id, 0, 10)).toEqual({ records: [], nextBefore: null });
    // The limit is clamped to 1..100 whatever the caller passes.
    expect(agentRecords(db.sql, b.row.id, null, 0).records).toHaveLength(1);
    db.close();
  });
});
