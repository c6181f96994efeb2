import { describe, expect, it } from "vitest";
import { openMemoryStorage } from "../support/sql-js-database.js";

// The Node stand-in for the Durable Object's SQLite must behave like it where the fleet relies on it.
describe("sql.js storage (the fleet's storage contract in Node)", () => {
  it("round-trips text, numbers, null and BLOBs as ArrayBuffer", () => {
    const { sql, close } = openMemoryStorage();
    sql.exec(`CREATE TABLE t (a TEXT, b INTEGER, c REAL, d BLOB, e TEXT)`);
    sql.exec(`INSERT INTO t VALUES (?, ?, ?, ?, ?)`, "x", 2 ** 40, 0.5, new Uint8Array([1, 2, 3]).buffer, null);
    const row = sql.exec<{ a: string; b: number; c: number; d: ArrayBuffer; e: null }>(`SELECT * FROM t`).one();
    expect(row.a).toBe("x");
    expect(row.b).toBe(2 ** 40);
    expect(row.c).toBe(0.5);
    expect(row.d).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(row.d)]).toEqual([1, 2, 3]);
    expect(row.e).toBeNull();
    close();
  });

  it("rolls a failed transaction back, nested ones included", () => {
    const storage = openMemoryStorage();
    storage.sql.exec(`CREATE TABLE t (a INTEGER)`);
    expect(() =>
      storage.transaction(() => {
        storage.sql.exec(`INSERT INTO t VALUES (1)`);
        storage.transaction(() => storage.sql.exec(`INSERT INTO t VALUES (2)`));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    storage.transaction(() => storage.sql.exec(`INSERT INTO t VALUES (3)`));
    expect(storage.sql.exec<{ a: number }>(`SELECT a FROM t`).toArray()).toEqual([{ a: 3 }]);
    expect(() => storage.sql.exec(`SELECT a FROM t WHERE a = 99`).one()).toThrow();
    storage.close();
  });
});
