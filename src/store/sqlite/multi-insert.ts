import type Database from 'better-sqlite3';

type Prepare = (sql: string) => Database.Statement;

/** the row counts one INSERT carries: a batch of n rows takes n's binary digits, so at most 7 statements per table */
const CHUNKS = [64, 32, 16, 8, 4, 2, 1] as const;

/**
 * Multi-row INSERTs: one statement step per up to 64 rows instead of one per row, which spares better-sqlite3's
 * per-call binding and stepping overhead for every row of a batch. Statements come from the store's cache (and so are
 * pinned, see PIN_STATEMENTS in sqlite-store.ts); 64 rows × 7 columns stays far below SQLite's 32766 parameters.
 */
export class MultiInsert {
  private readonly statements = new Map<number, Database.Statement>();

  constructor(
    private readonly prepare: Prepare,
    private readonly head: string,
    private readonly width: number,
  ) {}

  /** Inserts values.length / width rows, given row after row in one flat array. */
  run(values: unknown[]): void {
    const rows = values.length / this.width;
    let at = 0;
    for (const size of CHUNKS) {
      while (rows - at >= size) {
        const end = (at + size) * this.width;
        this.statement(size).run(at === 0 && end === values.length ? values : values.slice(at * this.width, end));
        at += size;
      }
    }
  }

  private statement(rows: number): Database.Statement {
    let stmt = this.statements.get(rows);
    if (!stmt) {
      const row = `(${new Array(this.width).fill('?').join(', ')})`;
      stmt = this.prepare(`${this.head} VALUES ${new Array(rows).fill(row).join(', ')}`);
      this.statements.set(rows, stmt);
    }
    return stmt;
  }
}
