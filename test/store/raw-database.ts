import Database from 'better-sqlite3';

/**
 * A raw better-sqlite3 connection for tests that edit a store file behind the store's back. better-sqlite3 12 on
 * Node 24 can abort the process when V8 collects a connection or statement (the store keeps its own reachable for the
 * same reason, src/store/sqlite/sqlite-store.ts PIN_STATEMENTS), so these are kept reachable for the test process's life.
 */
const keep: unknown[] = [];

export function rawDatabase(path: string): Database.Database {
  const db = new Database(path);
  keep.push(db);
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    keep.push(statement);
    return statement;
  }) as typeof db.prepare;
  return db;
}
