import type { StoredEvent } from '../events/envelope.js';
import type { TraceTotals } from './report-schema.js';

/**
 * Accumulates a run's totals event by event (the diff reads each trace once, as a stream). Counted from the events
 * themselves rather than the terminal event's totals, so incomplete runs get totals too.
 */
export class TotalsAccumulator {
  private t: TraceTotals = {
    events: 0,
    llmCalls: 0,
    toolCalls: 0,
    httpCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    unpricedCalls: 0,
    latencyMs: 0,
    durationMs: null,
    status: 'empty',
  };
  private firstTime: number | undefined;
  private lastTime: number | undefined;
  private terminalDuration: number | undefined;

  add(event: StoredEvent): void {
    const t = this.t;
    t.events++;
    if (t.status === 'empty') t.status = 'incomplete';
    const time = Date.parse(event.timestamp);
    if (Number.isFinite(time)) {
      this.firstTime ??= time;
      this.lastTime = time;
    }
    switch (event.type) {
      case 'llm_request':
        t.llmCalls++;
        break;
      case 'tool_call':
        t.toolCalls++;
        break;
      case 'http_request':
        t.httpCalls++;
        break;
      case 'llm_response': {
        const p = event.payload;
        t.inputTokens += p.usage?.inputTokens ?? 0;
        t.outputTokens += p.usage?.outputTokens ?? 0;
        if (p.costUsd === null) t.unpricedCalls++;
        else t.costUsd += p.costUsd;
        t.latencyMs += p.latencyMs;
        break;
      }
      case 'tool_response':
      case 'http_response':
        t.latencyMs += event.payload.latencyMs;
        break;
      case 'agent_completed':
      case 'agent_failed':
        t.status = event.type === 'agent_completed' ? 'completed' : 'failed';
        this.terminalDuration = event.payload.totals.durationMs;
        break;
      default:
        break;
    }
  }

  result(): TraceTotals {
    const durationMs =
      this.terminalDuration ??
      (this.firstTime !== undefined && this.lastTime !== undefined
        ? Math.max(0, this.lastTime - this.firstTime)
        : null);
    // rounding keeps float sums (0.1 + 0.2) from showing up as noise in reports and golden files
    return { ...this.t, costUsd: round(this.t.costUsd, 8), latencyMs: round(this.t.latencyMs, 3), durationMs };
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
