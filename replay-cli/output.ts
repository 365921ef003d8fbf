import { once } from 'node:events';

/**
 * Where commands write. Waits for 'drain' when the stream's buffer is full, so `retrace export` of a large trace into
 * a slow pipe holds bounded memory instead of queueing the whole trace.
 */
export class Output {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async line(text = ''): Promise<void> {
    await this.write(`${text}\n`);
  }

  /** --json output: pretty, because people pipe it into jq and read it too */
  async json(value: unknown): Promise<void> {
    await this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Streams a JSON array without holding it all as one string (a trace can have millions of events). */
  async jsonArray<T>(items: AsyncIterable<T>): Promise<number> {
    let count = 0;
    await this.write('[');
    for await (const item of items) {
      await this.write(`${count === 0 ? '\n' : ',\n'}  ${JSON.stringify(item)}`);
      count += 1;
    }
    await this.write(count === 0 ? ']\n' : '\n]\n');
    return count;
  }
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  /** cells longer than this are cut with "…" */
  maxWidth?: number;
}

function fitWidth(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** A plain-text table: no colours or box characters, so it stays readable in CI logs and when piped. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((c) => fitWidth(c.value(row), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const pad = (text: string, i: number): string => {
    const width = widths[i] ?? 0;
    return columns[i]?.align === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const header = columns.map((c, i) => pad(c.header.toUpperCase(), i));
  const body = cells.map((r) => r.map(pad));
  return [header, ...body].map((cols) => cols.join('  ').trimEnd()).join('\n');
}
