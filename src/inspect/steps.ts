import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from '../store/types.js';
import type { StepKind, StepRow, StepsPage, StepsQuery } from './schemas.js';

/**
 * The step tree of a trace, one page at a time: a request and its response become one step, so the tree reads
 * "run → LLM call / tool / HTTP / decision / memory". A page reads only its own seq range plus a fixed look-around,
 * so the first page of a 10,000-event trace costs the same as the first page of a 100-event one.
 *
 * A response is merged into its request when it lies at most LOOK events after it; the request's page looks that far
 * ahead and the response's page that far back, so both pages agree on where a pair is shown.
 */
const LOOK = 200;

const KIND_OF: Record<StoredEvent['type'], StepKind> = {
  agent_started: 'run',
  llm_request: 'llm',
  llm_response: 'llm',
  tool_call: 'tool',
  tool_response: 'tool',
  http_request: 'http',
  http_response: 'http',
  decision_made: 'decision',
  memory_updated: 'memory',
  nondeterminism: 'nondeterminism',
  file_written: 'file',
  agent_completed: 'end',
  agent_failed: 'end',
};

const RESPONSE_TYPES = new Set<string>(['llm_response', 'tool_response', 'http_response']);
const REQUEST_TYPES = new Set<string>(['llm_request', 'tool_call', 'http_request']);

export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/** The text of a chat message content: a string, or the text parts of a content array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
          ? (p as { text: string }).text
          : '',
      )
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

function requestPreview(body: unknown): string {
  if (!body || typeof body !== 'object') return json(body);
  const b = body as { messages?: unknown; input?: unknown };
  if (Array.isArray(b.messages) && b.messages.length > 0) {
    const last = b.messages[b.messages.length - 1] as { role?: unknown; content?: unknown };
    return `${String(last.role ?? '')}: ${contentText(last.content) || json(last.content)}`;
  }
  if (typeof b.input === 'string') return b.input;
  return json(body);
}

function responsePreview(body: unknown): string {
  if (!body || typeof body !== 'object') return json(body);
  const b = body as { choices?: unknown; content?: unknown; output_text?: unknown };
  if (Array.isArray(b.choices)) {
    const msg = (b.choices[0] as { message?: { content?: unknown; tool_calls?: unknown } } | undefined)?.message;
    if (msg) {
      const calls = Array.isArray(msg.tool_calls)
        ? msg.tool_calls.map((c) => (c as { function?: { name?: string } }).function?.name ?? '?')
        : [];
      const text = contentText(msg.content);
      return [text, calls.length ? `→ ${calls.join(', ')}` : ''].filter(Boolean).join(' ');
    }
  }
  if (Array.isArray(b.content)) return contentText(b.content);
  if (typeof b.output_text === 'string') return b.output_text;
  return json(body);
}

function stepName(e: StoredEvent): string {
  switch (e.type) {
    case 'agent_started':
      return e.payload.agent;
    case 'llm_request':
    case 'llm_response':
      return e.payload.model || e.payload.operation;
    case 'tool_call':
    case 'tool_response':
      return e.payload.tool;
    case 'http_request': {
      try {
        const u = new URL(e.payload.url);
        return `${e.payload.method} ${u.host}${u.pathname}`;
      } catch {
        return `${e.payload.method} ${e.payload.url}`;
      }
    }
    case 'http_response':
      return String(e.payload.status);
    case 'decision_made':
      return e.payload.decision;
    case 'memory_updated':
      return `${e.payload.operation} ${e.payload.key}`;
    case 'nondeterminism':
      return e.payload.source;
    case 'file_written':
      return `${e.payload.op} ${e.payload.path}`;
    case 'agent_completed':
      return 'completed';
    case 'agent_failed':
      return 'failed';
  }
}

function preview(e: StoredEvent, response: StoredEvent | undefined): string {
  switch (e.type) {
    case 'agent_started':
      return oneLine(`input ${json(e.payload.input)}`);
    case 'llm_request': {
      const r = response?.type === 'llm_response' ? response.payload : undefined;
      if (r?.error) return oneLine(`${r.status} ${r.error.name}: ${r.error.message}`);
      if (r)
        return oneLine(r.chunks && r.body === undefined ? `${r.chunks.length} stream chunks` : responsePreview(r.body));
      return oneLine(requestPreview(e.payload.body));
    }
    case 'llm_response':
      return oneLine(
        e.payload.error ? `${e.payload.error.name}: ${e.payload.error.message}` : responsePreview(e.payload.body),
      );
    case 'tool_call': {
      const r = response?.type === 'tool_response' ? response.payload : undefined;
      const result = r ? (r.error ? ` → ${r.error.name}: ${r.error.message}` : ` → ${json(r.result)}`) : '';
      return oneLine(`${json(e.payload.args)}${result}`);
    }
    case 'tool_response':
      return oneLine(e.payload.error ? `${e.payload.error.name}: ${e.payload.error.message}` : json(e.payload.result));
    case 'http_request': {
      const r = response?.type === 'http_response' ? response.payload : undefined;
      return oneLine(r ? `${r.status} ${r.error ? r.error.message : (r.body ?? '')}` : e.payload.url);
    }
    case 'http_response':
      return oneLine(e.payload.error ? e.payload.error.message : (e.payload.body ?? ''));
    case 'decision_made':
      return oneLine(`${e.payload.reason ?? ''}${e.payload.data !== undefined ? ` ${json(e.payload.data)}` : ''}`);
    case 'memory_updated':
      return oneLine(e.payload.value !== undefined ? json(e.payload.value) : '');
    case 'nondeterminism':
      return oneLine(`${e.payload.values.length} value(s)`);
    case 'file_written':
      return oneLine(
        e.payload.size !== undefined
          ? `${e.payload.size} bytes${e.payload.content !== undefined ? `: ${e.payload.content}` : ''}`
          : e.payload.op,
      );
    case 'agent_completed':
      return oneLine(`output ${json(e.payload.output)}`);
    case 'agent_failed':
      return oneLine(`${e.payload.error.name}: ${e.payload.error.message}`);
  }
}

function failed(e: StoredEvent | undefined): boolean {
  if (!e) return false;
  if (e.type === 'agent_failed') return true;
  if (e.type === 'llm_response' || e.type === 'http_response')
    return e.payload.error !== undefined || e.payload.status >= 400;
  if (e.type === 'tool_response') return e.payload.error !== undefined;
  return false;
}

function latencyOf(e: StoredEvent | undefined): number | null {
  if (e?.type === 'llm_response' || e?.type === 'tool_response' || e?.type === 'http_response')
    return e.payload.latencyMs;
  return null;
}

/** Builds the step rows of seq range [from, from+limit) out of events covering [from-LOOK, from+limit+LOOK]. */
export function stepsOf(
  events: readonly StoredEvent[],
  query: StepsQuery,
  t0: number,
  runDurationMs: number | null,
): StepRow[] {
  const to = query.from + query.limit - 1;
  const bySeq = new Map<string, StoredEvent>();
  const responseOf = new Map<string, StoredEvent>();
  for (const e of events) {
    bySeq.set(e.eventId, e);
    if (RESPONSE_TYPES.has(e.type) && e.parentEventId) responseOf.set(e.parentEventId, e);
  }
  const rows: StepRow[] = [];
  for (const e of events) {
    if (e.seq < query.from || e.seq > to) continue;
    if (e.type === 'nondeterminism' && !query.nondeterminism) continue;
    let response: StoredEvent | undefined;
    if (REQUEST_TYPES.has(e.type)) {
      const r = responseOf.get(e.eventId);
      if (r && r.seq - e.seq <= LOOK) response = r;
    } else if (RESPONSE_TYPES.has(e.type) && e.parentEventId) {
      const req = bySeq.get(e.parentEventId);
      if (req && e.seq - req.seq <= LOOK) continue; // shown with its request
    }
    const at = Date.parse(e.timestamp) - t0;
    const own = latencyOf(e);
    const usage =
      response?.type === 'llm_response' ? response.payload : e.type === 'llm_response' ? e.payload : undefined;
    const isResponse = RESPONSE_TYPES.has(e.type);
    rows.push({
      seq: e.seq,
      responseSeq: response?.seq ?? null,
      kind: KIND_OF[e.type],
      type: e.type,
      name: stepName(e),
      depth: e.type === 'agent_started' ? 0 : isResponse ? 2 : 1,
      // a lone response's bar ends at its own timestamp
      startMs: Math.max(0, own !== null ? at - own : at),
      durationMs: e.type === 'agent_started' ? runDurationMs : (latencyOf(response) ?? own),
      status: failed(e) || failed(response) ? 'error' : REQUEST_TYPES.has(e.type) && !response ? 'pending' : 'ok',
      inputTokens: usage?.usage?.inputTokens ?? null,
      outputTokens: usage?.usage?.outputTokens ?? null,
      costUsd: usage ? usage.costUsd : null,
      preview: preview(e, response),
    });
  }
  return rows;
}

export async function readRange(store: EventStore, tenant: string, traceId: string, fromSeq: number, toSeq: number) {
  const out: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId, { fromSeq: Math.max(0, fromSeq), toSeq })) out.push(e);
  return out;
}

export async function stepsPage(
  store: EventStore,
  tenant: string,
  traceId: string,
  query: StepsQuery,
  lastSeq: number,
  t0: number,
  runDurationMs: number | null,
): Promise<StepsPage> {
  const to = query.from + query.limit - 1;
  const events = await readRange(store, tenant, traceId, query.from - LOOK, Math.min(lastSeq, to + LOOK));
  return {
    traceId,
    steps: stepsOf(events, query, t0, runDurationMs),
    nextFrom: to < lastSeq ? to + 1 : null,
    lastSeq,
  };
}
