import initSqlJs, { type BindParams, type SqlValue as SqlJsValue } from "sql.js";
import type { FleetStorage, SqlCursor, SqlDatabase, SqlRow, SqlValue } from "../../edge/fleet/sql-database.js";

/**
 * The fleet's storage contract (edge/fleet/sql-database.ts) over real SQLite compiled to wasm
 * (sql.js), so the Fleet object's domain modules are tested in Node without workerd. Values cross
 * the boundary as workerd's do: BLOBs as ArrayBuffer, integers and reals as numbers.
 */
const SQL = await initSqlJs();

function toBinding(value: SqlValue): SqlJsValue {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : value;
}

function fromColumn(value: SqlJsValue): SqlValue {
  return value instanceof Uint8Array ? (value.slice().buffer as ArrayBuffer) : value;
}

class SqlJsDatabase implements SqlDatabase {
  constructor(readonly db: InstanceType<typeof SQL.Database>) {}

  exec<T extends SqlRow>(query: string, ...bindings: SqlValue[]): SqlCursor<T> {
    const statement = this.db.prepare(query);
    const rows: T[] = [];
    try {
      statement.bind(bindings.map(toBinding) as BindParams);
      while (statement.step()) {
        const raw = statement.getAsObject();
        const row: SqlRow = {};
        for (const [key, value] of Object.entries(raw)) row[key] = fromColumn(value as SqlJsValue);
        rows.push(row as T);
      }
    } finally {
      statement.free();
    }
    return {
      toArray: () => rows,
      one: () => {
        if (rows.length !== 1) throw new Error(`expected exactly one row, got ${rows.length}`);
        return rows[0]!;
      },
    };
  }
}

export interface MemoryFleetStorage extends FleetStorage {
  close(): void;
}

/** A fresh in-memory SQLite database with workerd's transaction semantics (nested via savepoints). */
export function openMemoryStorage(): MemoryFleetStorage {
  const db = new SQL.Database();
  const sql = new SqlJsDatabase(db);
  let depth = 0;
  return {
    sql,
    transaction<T>(work: () => T): T {
      const name = `tx${depth++}`;
      db.run(`SAVEPOINT ${name}`);
      try {
        const result = work();
        db.run(`RELEASE ${name}`);
        return result;
      } catch (err) {
        db.run(`ROLLBACK TO ${name}`);
        db.run(`RELEASE ${name}`);
        throw err;
      } finally {
        depth--;
      }
    },
    close: () => db.close(),
  };
}
