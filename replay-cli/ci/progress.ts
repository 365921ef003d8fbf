import type { CiTraceResult } from './report.js';

/**
 * Progress of `retrace ci`, on stderr (stdout carries the result). On a terminal: one line redrawn in place — a bar,
 * the count, failures so far and the trace being finished — with each failure printed above it as it happens.
 * Otherwise (CI logs, pipes): one plain line per finished trace, `[3/10] tr_abc identical (1.4s)`.
 */

interface Sink {
  write(text: string): unknown;
}

const BAR_WIDTH = 24;

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

export class Progress {
  private done = 0;
  private failed = 0;
  private drawn = false;

  constructor(
    private readonly sink: Sink,
    private readonly total: number,
    private readonly tty: boolean,
    private readonly columns = 80,
  ) {}

  start(): void {
    if (this.tty && this.total > 0) this.draw('');
  }

  finished(t: CiTraceResult): void {
    this.done += 1;
    const bad = t.verdict === 'diverged' || t.verdict === 'error';
    if (bad) this.failed += 1;
    const detail = t.verdict === 'diverged' ? t.firstDivergence : t.verdict === 'error' ? t.error?.message : undefined;
    if (!this.tty) {
      const tail = detail ? ` — ${oneLine(detail, 160)}` : '';
      this.sink.write(`[${this.done}/${this.total}] ${t.traceId} ${t.verdict} (${secs(t.durationMs)})${tail}\n`);
      return;
    }
    if (bad) {
      this.clear();
      this.sink.write(
        `${t.verdict === 'error' ? '!' : '✗'} ${t.traceId} ${t.verdict}${detail ? `: ${oneLine(detail, this.columns - t.traceId.length - 16)}` : ''}\n`,
      );
    }
    this.draw(t.traceId);
  }

  /** Ends the redrawn line so whatever follows starts on a fresh one. */
  end(): void {
    if (this.tty && this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private clear(): void {
    if (this.drawn) this.sink.write('\r\x1b[2K');
  }

  private draw(current: string): void {
    const filled = this.total === 0 ? BAR_WIDTH : Math.round((this.done / this.total) * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const failed = this.failed > 0 ? `  ${this.failed} failed` : '';
    const head = `${bar} ${this.done}/${this.total}${failed}`;
    const room = this.columns - head.length - 3;
    const line = current && room > 8 ? `${head}  ${oneLine(current, room)}` : head;
    this.sink.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }
}
