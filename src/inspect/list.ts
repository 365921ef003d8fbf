import type { StoredEvent } from '../events/envelope.js';
import { compareReplay } from '../replay/comparison.js';
import { encodeCursor } from '../store/cursor.js';
import type { EventStore, ListFilter, TraceSummary } from '../store/types.js';
import type { ListQuery, TraceListPage, TraceRow } from './schemas.js';
import { contentText } from './steps.js';

/**
 * The trace list behind the inspector. agent, status and since are store queries (keyset paged by the store).
 * model, text and divergence need a trace's events, so those filters read candidate traces one store page at a time
 * and stop after SCAN_BUDGET traces: the page then comes back short with a cursor that continues the scan, the way a
 * log search pages through a time range. No request ever loads the whole list.
 */
const SCAN_BUDGET = 500;
const STORE_PAGE = 100;

/** What the event-reading filters need from a trace, cached per trace revision (traces are append-only). */
interface Facets {
  lastSeq: number;
  models: Set<string>;
  /** lower-cased prompts, outputs, tool arguments and results, capped */
  text: string;
}
const TEXT_CAP = 256 * 1024;

function textOf(e: StoredEvent): string {
  switch (e.type) {
    case 'agent_started':
      return JSON.stringify(e.payload.input ?? '');
    case 'llm_request': {
      const body = e.payload.body as { messages?: Array<{ content?: unknown }>; input?: unknown; system?: unknown };
      const parts: string[] = [];
      if (Array.isArray(body?.messages)) for (const m of body.messages) parts.push(contentText(m?.content));
      if (body?.input !== undefined) parts.push(JSON.stringify(body.input));
      if (typeof body?.system === 'string') parts.push(body.system);
      return parts.join('\n');
    }
    case 'llm_response':
      if (e.payload.chunks && e.payload.body === undefined) return e.payload.chunks.map((c) => c.data).join('');
      return JSON.stringify(e.payload.body ?? '');
    case 'tool_call':
      return `${e.payload.tool} ${JSON.stringify(e.payload.args ?? '')}`;
    case 'tool_response':
      return JSON.stringify(e.payload.result ?? e.payload.error ?? '');
    case 'agent_completed':
      return JSON.stringify(e.payload.output ?? '');
    case 'agent_failed':
      return e.payload.error.message;
    default:
      return '';
  }
}

export class TraceLister {
  private readonly facets = new Map<string, Facets>();
  private readonly divergence = new Map<string, boolean>();

  constructor(private readonly store: EventStore) {}

  private async facetsOf(tenant: string, t: TraceSummary): Promise<Facets> {
    const key = `${tenant}/${t.traceId}`;
    const cached = this.facets.get(key);
    if (cached && cached.lastSeq === t.lastSeq) return cached;
    const models = new Set<string>();
    let text = '';
    for await (const e of this.store.read(tenant, t.traceId)) {
      if (e.type === 'llm_request' || e.type === 'llm_response') if (e.payload.model) models.add(e.payload.model);
      if (text.length < TEXT_CAP) text += `${textOf(e).toLowerCase()}\n`;
    }
    const f = { lastSeq: t.lastSeq, models, text: text.slice(0, TEXT_CAP) };
    if (this.facets.size > 5000) this.facets.clear();
    this.facets.set(key, f);
    return f;
  }

  /** A replay diverged when its run differs from the recording (up to where the replay stopped). */
  async replayDiverged(tenant: string, t: TraceSummary): Promise<boolean> {
    if (!t.replayOf) return false;
    const key = `${tenant}/${t.traceId}@${t.lastSeq}`;
    const cached = this.divergence.get(key);
    if (cached !== undefined) return cached;
    const replay: StoredEvent[] = [];
    for await (const e of this.store.read(tenant, t.traceId)) replay.push(e);
    const started = replay[0];
    const until = started?.type === 'agent_started' ? started.payload.replayOf?.until : undefined;
    const original: StoredEvent[] = [];
    try {
      for await (const e of this.store.read(tenant, t.replayOf, until !== undefined ? { toSeq: until } : {}))
        original.push(e);
    } catch {
      // the original is gone (archived and pruned): nothing to compare against, so not a known divergence
      return false;
    }
    const diverged = (await compareReplay(original, replay)).verdict === 'diverged';
    this.divergence.set(key, diverged);
    return diverged;
  }

  private async matches(tenant: string, t: TraceSummary, q: ListQuery): Promise<boolean> {
    if (q.divergent !== undefined && (await this.replayDiverged(tenant, t)) !== q.divergent) return false;
    if (q.model === undefined && q.q === undefined) return true;
    const f = await this.facetsOf(tenant, t);
    if (q.model !== undefined && !f.models.has(q.model)) return false;
    if (q.q !== undefined && !f.text.includes(q.q.toLowerCase())) return false;
    return true;
  }

  async list(tenant: string, q: ListQuery): Promise<TraceListPage> {
    const filter: ListFilter = {
      ...(q.agent !== undefined ? { agent: q.agent } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.since !== undefined ? { startedAfter: q.since } : {}),
    };
    const scanning = q.model !== undefined || q.q !== undefined || q.divergent !== undefined;
    if (!scanning) {
      const page = await this.store.list(tenant, {
        ...filter,
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { tenant, traces: group(page.traces), nextCursor: page.nextCursor ?? null, scanned: page.traces.length };
    }
    const found: TraceSummary[] = [];
    let cursor = q.cursor;
    let scanned = 0;
    for (;;) {
      const page = await this.store.list(tenant, { ...filter, limit: STORE_PAGE, ...(cursor ? { cursor } : {}) });
      for (const t of page.traces) {
        scanned += 1;
        if (await this.matches(tenant, t, q)) found.push(t);
        // resume right after the last trace looked at: the store's keyset is (startedAt, traceId)
        const here = encodeCursor([t.startedAt ?? '', t.traceId]);
        if (found.length === q.limit || scanned >= SCAN_BUDGET) {
          const more = page.nextCursor !== undefined || t !== page.traces[page.traces.length - 1];
          return { tenant, traces: group(found), nextCursor: more ? here : null, scanned };
        }
      }
      if (page.nextCursor === undefined) return { tenant, traces: group(found), nextCursor: null, scanned };
      cursor = page.nextCursor;
    }
  }
}

/** Replays whose original is on the same page are listed under it; the rest stay in place (the original is older). */
export function group(traces: readonly TraceSummary[]): TraceRow[] {
  const rows = new Map<string, TraceRow>();
  for (const t of traces) if (!t.replayOf) rows.set(t.traceId, { ...t, replays: [] });
  const out: TraceRow[] = [];
  for (const t of traces) {
    const parent = t.replayOf ? rows.get(t.replayOf) : undefined;
    if (parent) parent.replays.push(t);
    else out.push(rows.get(t.traceId) ?? { ...t, replays: [] });
  }
  return out;
}
