import type { StoredEvent } from '../src/events/envelope.js';

/** Human formatting for tables. Everything here is presentation only; --json output never goes through it. */

const DASH = '-';

export function formatInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** `in 177 / out 17`: which side of a call the tokens were on matters for cost and for context limits. */
export function formatTokens(input: number, output: number): string {
  return input === 0 && output === 0 ? DASH : `in ${formatInt(input)} / out ${formatInt(output)}`;
}

export const COST_UNKNOWN = 'cost unknown';

/**
 * A trace's cost. Totals add only priced calls, so a trace that used tokens but cost nothing used models the pricing
 * table does not know: that is "cost unknown", never $0. `unpriced` (calls with usage and no cost, when the caller
 * counted them) marks a partial sum.
 */
export function formatTraceCost(usd: number | null | undefined, tokens: number, unpriced = 0): string {
  if ((usd === 0 || usd === null || usd === undefined) && tokens > 0) return COST_UNKNOWN;
  const cost = formatCost(usd);
  return unpriced > 0 && cost !== DASH ? `${cost} + ${unpriced} unpriced` : cost;
}

/** Agent costs are often fractions of a cent, so small amounts keep significant digits instead of rounding to $0.00. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return DASH;
  if (usd === 0) return '$0';
  if (usd < 0.01) {
    // two significant digits, trailing zeros dropped: $0.0001, $0.0023
    const digits = Math.min(10, 1 - Math.floor(Math.log10(usd)));
    return `$${usd.toFixed(digits).replace(/0+$/, '')}`;
  }
  return `$${usd.toFixed(2)}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`;
  const totalM = Math.round(totalS / 60);
  return `${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, '0')}m`;
}

/** UTC, second precision: the same on every machine, so logs and bug reports line up. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null) return DASH;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One line, collapsed whitespace, cut at `max` characters. */
export function oneLine(text: string, max = 72): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function json(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text content of a chat message (OpenAI string content, or Anthropic/OpenAI content-part arrays). */
function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean);
  return texts.length > 0 ? texts.join(' ') : undefined;
}

/** The last message of a chat request: what the model was asked at this step. */
function requestPreview(body: unknown): string {
  if (isRecord(body)) {
    const messages = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : undefined;
    const last: unknown = messages?.[messages.length - 1];
    if (isRecord(last)) {
      const text = contentText(last.content);
      if (text !== undefined) return `${typeof last.role === 'string' ? `${last.role}: ` : ''}${text}`;
    }
    if (typeof body.input === 'string') return body.input;
  }
  return json(body);
}

/** What the model answered: OpenAI chat choices, Anthropic content blocks, Responses API output_text. */
function responsePreview(body: unknown): string {
  if (isRecord(body)) {
    const choice: unknown = Array.isArray(body.choices) ? body.choices[0] : undefined;
    if (isRecord(choice) && isRecord(choice.message)) {
      const text = contentText(choice.message.content);
      if (text !== undefined) return text;
      if (Array.isArray(choice.message.tool_calls)) return `tool calls: ${json(choice.message.tool_calls)}`;
    }
    const blocks = contentText(body.content);
    if (blocks !== undefined) return blocks;
    if (typeof body.output_text === 'string') return body.output_text;
  }
  return json(body);
}

/** The "name" column of `retrace show`: model, tool, agent or whatever identifies the step. */
export function eventName(e: StoredEvent): string {
  switch (e.type) {
    case 'agent_started':
      return e.payload.agent;
    case 'llm_request':
    case 'llm_response':
      return e.payload.model;
    case 'tool_call':
    case 'tool_response':
      return e.payload.tool;
    case 'http_request':
      return e.payload.method;
    case 'http_response':
      return String(e.payload.status);
    case 'memory_updated':
      return e.payload.key;
    case 'nondeterminism':
      return e.payload.source;
    case 'file_written':
      return e.payload.path;
    default:
      return '';
  }
}

export function eventLatency(e: StoredEvent): number | undefined {
  if (e.type === 'llm_response' || e.type === 'tool_response' || e.type === 'http_response') return e.payload.latencyMs;
  return undefined;
}

export function eventTokens(e: StoredEvent): string {
  if (e.type !== 'llm_response' || e.payload.usage === undefined) return DASH;
  return formatTokens(e.payload.usage.inputTokens, e.payload.usage.outputTokens);
}

/** A step's cost; a call with tokens whose model has no price is "cost unknown", not $0 nor blank. */
export function eventCost(e: StoredEvent): string {
  if (e.type !== 'llm_response') return DASH;
  if (e.payload.costUsd === null && e.payload.usage !== undefined) return COST_UNKNOWN;
  return formatCost(e.payload.costUsd);
}

/** LLM responses with usage but no price (their model is not in the pricing table). */
export function unpricedCalls(events: readonly StoredEvent[]): number {
  let n = 0;
  for (const e of events) if (e.type === 'llm_response' && e.payload.costUsd === null && e.payload.usage) n++;
  return n;
}

/** A one-line preview of the payload: the part a person scans for when looking for where a run went wrong. */
export function eventPreview(e: StoredEvent, max = 72): string {
  const p = e.payload;
  switch (e.type) {
    case 'agent_started':
      return oneLine(`input ${json(e.payload.input)}`, max);
    case 'llm_request':
      return oneLine(requestPreview(e.payload.body), max);
    case 'llm_response': {
      const r = e.payload;
      if (r.error) return oneLine(`${r.status} ${r.error.name}: ${r.error.message}`, max);
      const text = r.chunks && r.body === undefined ? `${r.chunks.length} stream chunks` : responsePreview(r.body);
      return oneLine(`${r.status !== 200 ? `${r.status} ` : ''}${text}`, max);
    }
    case 'tool_call':
      return oneLine(json(e.payload.args), max);
    case 'tool_response':
      return oneLine(
        e.payload.error ? `${e.payload.error.name}: ${e.payload.error.message}` : json(e.payload.result),
        max,
      );
    case 'decision_made':
      return oneLine(`${e.payload.decision}${e.payload.reason ? ` (${e.payload.reason})` : ''}`, max);
    case 'memory_updated':
      return oneLine(`${e.payload.operation}${e.payload.value !== undefined ? ` ${json(e.payload.value)}` : ''}`, max);
    case 'http_request':
      return oneLine(e.payload.url, max);
    case 'http_response':
      return oneLine(
        e.payload.error ? `${e.payload.error.name}: ${e.payload.error.message}` : (e.payload.body ?? ''),
        max,
      );
    case 'nondeterminism':
      return oneLine(`${e.payload.values.length} value(s): ${json(e.payload.values)}`, max);
    case 'file_written': {
      const f = e.payload;
      const what =
        f.to !== undefined ? `→ ${f.to}` : f.size !== undefined ? `${f.size} B sha256 ${f.sha256?.slice(0, 12)}` : '';
      return oneLine(`${f.op} ${what}`, max);
    }
    case 'agent_completed':
      return oneLine(`output ${json(e.payload.output)}`, max);
    case 'agent_failed':
      return oneLine(`${e.payload.error.name}: ${e.payload.error.message}`, max);
    default:
      return oneLine(json(p), max);
  }
}
