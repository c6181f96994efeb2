import { describe, expect, it } from "vitest";
import { appendOutbox, OUTBOX_VERSION, readOutboxAfter } from "../../edge/fleet/outbox.js";
import { openFleetDb } from "./fleet-fixture.js";

describe("outbox", () => {
  it("appends versioned events with increasing ids and reads them after a cursor, in pages", () => {
    const db = openFleetDb();
    appendOutbox(db.sql, "agent.online", { agentId: "ag_1" }, 10);
    appendOutbox(db.sql, "agent.offline", { agentId: "ag_1", reason: "silent", lastSeenAt: null }, 20);
    appendOutbox(db.sql, "checkpoint.published", { size: 3, root: "cm9vdA==", note: "n" }, 30);
    const all = readOutboxAfter(db.sql, 0, 10);
    expect(all.map((e) => [e.kind, e.version, e.createdAt])).toEqual([
      ["agent.online", OUTBOX_VERSION, 10],
      ["agent.offline", OUTBOX_VERSION, 20],
      ["checkpoint.published", OUTBOX_VERSION, 30],
    ]);
    expect(all[1]!.data).toEqual({ agentId: "ag_1", reason: "silent", lastSeenAt: null });
    expect(all[0]!.id).toBeLessThan(all[1]!.id);
    const page = readOutboxAfter(db.sql, all[0]!.id, 1);
    expect(page.map((e) => e.kind)).toEqual(["agent.offline"]);
    expect(readOutboxAfter(db.sql, all[2]!.id, 10)).toEqual([]);
    expect(readOutboxAfter(db.sql, 0, -5)).toEqual([]);
    db.close();
  });

  it("an event written in a transaction that fails is gone with the change", () => {
    const db = openFleetDb();
    expect(() =>
      db.transaction(() => {
        appendOutbox(db.sql, "fleet.config", { version: 2 }, 1);
        throw new Error("the change failed");
      }),
    ).toThrow("the change failed");
    expect(readOutboxAfter(db.sql, 0, 10)).toEqual([]);
    db.close();
  });

  it("a database created before payload versions gets the column, old rows read as version 1", async () => {
    const { openMemoryStorage } = await import("../support/sql-js-database.js");
    const { migrateSchema } = await import("../../edge/fleet/sql-schema.js");
    const db = openMemoryStorage();
    db.sql.exec(`CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER)`);
    db.sql.exec(`INSERT INTO outbox (kind, payload, created_at) VALUES ('agent.online', '{"agentId":"ag_old"}', 5)`);
    migrateSchema(db.sql);
    expect(readOutboxAfter(db.sql, 0, 10)).toEqual([{ id: 1, kind: "agent.online", version: 1, data: { agentId: "ag_old" }, createdAt: 5 }]);
    db.close();
  });
});
