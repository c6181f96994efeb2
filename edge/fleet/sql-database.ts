/**
 * The SQL surface the fleet's domain modules use: a structural subset of workerd's `SqlStorage`, so
 * the same modules run over a Durable Object's SQLite in workerd and over SQLite compiled to wasm
 * (sql.js, test/support/sql-js-database.ts) in Node tests, with no workerd types in their signatures.
 */
export type SqlValue = ArrayBuffer | string | number | null;

export type SqlRow = Record<string, SqlValue>;

export interface SqlCursor<T> {
  toArray(): T[];
  /** The only row; throws unless the query returned exactly one. */
  one(): T;
}

export interface SqlDatabase {
  exec<T extends SqlRow>(query: string, ...bindings: SqlValue[]): SqlCursor<T>;
}

/** A database plus its all-or-nothing unit of work (workerd: `ctx.storage.transactionSync`). */
export interface FleetStorage {
  readonly sql: SqlDatabase;
  transaction<T>(work: () => T): T;
}
