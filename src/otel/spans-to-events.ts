import type { NewEvent } from '../events/envelope.js';
import { LlmRequestSchema, LlmResponseSchema } from '../events/payloads.js';
import { recordedEndpoint } from '../hashing/providers.js';
import { normalizeRequest, OccurrenceCounter, requestHash } from '../hashing/request-key.js';
import { toolArgsHash } from '../hashing/tool-key.js';
import type { PricingTable } from '../recorder/pricing.js';
import { eventIdOf, nanosToIso, nanosToMs, retraceTraceIdOf } from './ids.js';
import type { ChatMessage, MessagePart } from './messages.js';
import { GEN_AI, HTTP, OPENINFERENCE, OPERATION, RETRACE, VERCEL_AI } from './semconv.js';
import type { AttrValue, SpanRecord } from './spans.js';

/**
 * OTel spans of one trace → a retrace trace. GenAI spans from the common instrumentations become llm_request /
 * llm_response (with content when the span carries it), tool spans tool_call / tool_response, HTTP client spans
 * http_request / http_response; other spans are kept as `decision_made` steps or dropped. The trace is marked as
 * imported (tag + metadata naming the source convention). Retrace's own export with --include-content carries the
 * stored payloads, which come back verbatim, so such a trace replays like the original.
 */

export type SpanSource = 'retrace' | 'gen_ai' | 'openllmetry' | 'openinference' | 'vercel-ai' | 'http' | 'generic';

export interface ImportMappingOptions {
  /** keep spans that are not GenAI, tool or HTTP as generic steps (default true) */
  keepGenericSpans?: boolean;
  /** `path/to/agent.js#export`: makes the imported trace replayable when its spans carry request/response bodies */
  entry?: string;
  /** the file or endpoint the spans came from, recorded in the trace's metadata */
  origin?: string;
  pricing?: PricingTable;
  retraceVersion: string;
}

export interface ImportedTrace {
  traceId: string;
  otelTraceId: string;
  agent: string;
  sources: SpanSource[];
  events: NewEvent[];
}

type Attrs = Record<string, AttrValue>;

const s = (v: AttrValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const n = (v: AttrValue | undefined): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;

function json(v: AttrValue | undefined): unknown {
  if (typeof v !== 'string') return v ?? undefined;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** attributes `prefix.{i}.rest` → one record per index i, in index order */
function indexed(attrs: Attrs, prefix: string): Attrs[] {
  const byIndex = new Map<number, Attrs>();
  for (const [key, value] of Object.entries(attrs)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const i = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(i) || dot < 0) continue;
    const slot = byIndex.get(i) ?? {};
    slot[rest.slice(dot + 1)] = value;
    byIndex.set(i, slot);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

const LLM_OPERATIONS = new Set<string>([
  OPERATION.chat,
  OPERATION.textCompletion,
  OPERATION.generateContent,
  OPERATION.embeddings,
]);
const VERCEL_LLM =
  /^ai\.(generateText|streamText|generateObject|streamObject)\.do(Generate|Stream)$|^ai\.embed(Many)?\.doEmbed$/;
const VERCEL_WRAPPER = /^ai\.(generateText|streamText|generateObject|streamObject|embed|embedMany)$/;

type Role = 'llm' | 'tool' | 'http' | 'agent' | 'generic' | 'skip';

function classify(span: SpanRecord): { role: Role; source: SpanSource } {
  const a = span.attributes;
  if (a[RETRACE.requestPayload] !== undefined) return { role: 'llm', source: 'retrace' };
  const op = s(a[VERCEL_AI.operationId]);
  if (op !== undefined) {
    if (VERCEL_LLM.test(op)) return { role: 'llm', source: 'vercel-ai' };
    if (op === 'ai.toolCall') return { role: 'tool', source: 'vercel-ai' };
    if (VERCEL_WRAPPER.test(op)) return { role: 'agent', source: 'vercel-ai' };
  }
  const genOp = s(a[GEN_AI.operationName]);
  if (genOp !== undefined) {
    if (LLM_OPERATIONS.has(genOp)) return { role: 'llm', source: a[RETRACE.seq] !== undefined ? 'retrace' : 'gen_ai' };
    if (genOp === OPERATION.executeTool)
      return { role: 'tool', source: a[RETRACE.seq] !== undefined ? 'retrace' : 'gen_ai' };
    if (genOp === OPERATION.invokeAgent || genOp === 'create_agent' || genOp === 'invoke_workflow')
      return { role: 'agent', source: a[RETRACE.seq] !== undefined ? 'retrace' : 'gen_ai' };
  }
  const oiKind = s(a[OPENINFERENCE.spanKind])?.toUpperCase();
  if (oiKind !== undefined) {
    if (oiKind === 'LLM' || oiKind === 'EMBEDDING') return { role: 'llm', source: 'openinference' };
    if (oiKind === 'TOOL') return { role: 'tool', source: 'openinference' };
    if (oiKind === 'AGENT' || oiKind === 'CHAIN') return { role: 'agent', source: 'openinference' };
  }
  const traceloopKind = s(a['traceloop.span.kind']);
  if (traceloopKind === 'tool') return { role: 'tool', source: 'openllmetry' };
  if (traceloopKind === 'workflow' || traceloopKind === 'agent') return { role: 'agent', source: 'openllmetry' };
  if (a['llm.request.type'] !== undefined || Object.keys(a).some((k) => k.startsWith('gen_ai.prompt.')))
    return { role: 'llm', source: 'openllmetry' };
  if (a[GEN_AI.requestModel] !== undefined || a[GEN_AI.system] !== undefined || a[GEN_AI.providerName] !== undefined)
    return { role: 'llm', source: 'gen_ai' };
  if (a[GEN_AI.toolName] !== undefined) return { role: 'tool', source: 'gen_ai' };
  if ((a[HTTP.method] !== undefined || a['http.method'] !== undefined) && span.kind === 3)
    return { role: 'http', source: 'http' };
  return { role: 'generic', source: 'generic' };
}

/** semconv provider names → retrace's */
function retraceProvider(name: string | undefined): string {
  if (name === undefined) return 'unknown';
  const lower = name.toLowerCase();
  if (lower.startsWith('openai')) return 'openai';
  if (lower.startsWith('anthropic')) return 'anthropic';
  if (lower.startsWith('azure')) return 'azure-openai';
  if (lower.includes('gemini') || lower.startsWith('google') || lower.startsWith('gcp') || lower.includes('vertex'))
    return 'gemini';
  if (lower.includes('bedrock') || lower.startsWith('amazon')) return 'bedrock';
  return lower.split('.')[0] ?? lower;
}

function textParts(content: unknown): MessagePart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', content }];
  if (!Array.isArray(content))
    return content === undefined || content === null ? [] : [{ type: 'text', content: JSON.stringify(content) }];
  const out: MessagePart[] = [];
  for (const p of content) {
    if (typeof p !== 'object' || p === null) continue;
    const o = p as Record<string, unknown>;
    if (o.type === 'text' && typeof (o.text ?? o.content) === 'string')
      out.push({ type: 'text', content: String(o.text ?? o.content) });
    else if (o.type === 'tool-call' || o.type === 'tool_call')
      out.push({
        type: 'tool_call',
        ...(typeof (o.toolCallId ?? o.id) === 'string' ? { id: String(o.toolCallId ?? o.id) } : {}),
        name: String(o.toolName ?? o.name ?? ''),
        arguments: o.input ?? o.args ?? o.arguments,
      });
    else if (o.type === 'tool-result' || o.type === 'tool_call_response')
      out.push({
        type: 'tool_call_response',
        ...(typeof (o.toolCallId ?? o.id) === 'string' ? { id: String(o.toolCallId ?? o.id) } : {}),
        response: o.output ?? o.result ?? o.response,
      });
  }
  return out;
}

/** semconv / Vercel message lists (JSON) → ChatMessage[] */
function messagesFromJson(value: unknown): ChatMessage[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((m): ChatMessage[] => {
    if (typeof m !== 'object' || m === null) return [];
    const o = m as Record<string, unknown>;
    const role = typeof o.role === 'string' ? o.role : 'user';
    const parts = Array.isArray(o.parts) ? textParts(o.parts) : textParts(o.content);
    return [{ role, parts, ...(typeof o.finish_reason === 'string' ? { finish_reason: o.finish_reason } : {}) }];
  });
}

function inputMessages(a: Attrs, source: SpanSource): { system: MessagePart[]; messages: ChatMessage[] } {
  const system = messagesFromJson([{ role: 'system', parts: json(a[GEN_AI.systemInstructions]) }])[0]?.parts ?? [];
  let messages = messagesFromJson(json(a[GEN_AI.inputMessages]));
  if (messages.length === 0 && source === 'vercel-ai') {
    messages = messagesFromJson(json(a[VERCEL_AI.promptMessages]));
    if (messages.length === 0) {
      const prompt = json(a[VERCEL_AI.prompt]) as { system?: string; prompt?: string; messages?: unknown } | undefined;
      if (prompt && typeof prompt === 'object') {
        if (typeof prompt.system === 'string') system.push({ type: 'text', content: prompt.system });
        if (typeof prompt.prompt === 'string')
          messages = [{ role: 'user', parts: [{ type: 'text', content: prompt.prompt }] }];
        else messages = messagesFromJson(prompt.messages);
      }
    }
  }
  if (messages.length === 0) {
    // OpenLLMetry: gen_ai.prompt.{i}.role / .content
    messages = indexed(a, 'gen_ai.prompt.').map((p) => ({
      role: s(p.role) ?? 'user',
      parts: textParts(json(p.content)),
    }));
  }
  if (messages.length === 0) {
    // OpenInference: llm.input_messages.{i}.message.role / .content
    messages = indexed(a, OPENINFERENCE.inputMessagesPrefix).map((p) => ({
      role: s(p['message.role']) ?? 'user',
      parts: textParts(s(p['message.content']) ?? ''),
    }));
  }
  if (messages.length === 0 && s(a[OPENINFERENCE.inputValue]) !== undefined)
    messages = [{ role: 'user', parts: [{ type: 'text', content: s(a[OPENINFERENCE.inputValue])! }] }];
  return { system, messages };
}

function outputMessages(a: Attrs, source: SpanSource): ChatMessage[] {
  let messages = messagesFromJson(json(a[GEN_AI.outputMessages]));
  if (messages.length === 0 && source === 'vercel-ai') {
    const parts: MessagePart[] = [];
    const text = s(a[VERCEL_AI.responseText]);
    if (text !== undefined && text !== '') parts.push({ type: 'text', content: text });
    const calls = json(a[VERCEL_AI.responseToolCalls]);
    if (Array.isArray(calls))
      for (const c of calls as Record<string, unknown>[])
        parts.push({
          type: 'tool_call',
          ...(typeof c.toolCallId === 'string' ? { id: c.toolCallId } : {}),
          name: String(c.toolName ?? ''),
          arguments: json((c.input ?? c.args) as AttrValue),
        });
    const finish = s(a[VERCEL_AI.responseFinishReason]);
    if (parts.length > 0) messages = [{ role: 'assistant', parts, ...(finish ? { finish_reason: finish } : {}) }];
  }
  if (messages.length === 0)
    messages = indexed(a, 'gen_ai.completion.').map((p) => ({
      role: s(p.role) ?? 'assistant',
      parts: textParts(json(p.content)),
      ...(s(p.finish_reason) ? { finish_reason: s(p.finish_reason) } : {}),
    }));
  if (messages.length === 0)
    messages = indexed(a, OPENINFERENCE.outputMessagesPrefix).map((p) => ({
      role: s(p['message.role']) ?? 'assistant',
      parts: textParts(s(p['message.content']) ?? ''),
    }));
  if (messages.length === 0 && s(a[OPENINFERENCE.outputValue]) !== undefined)
    messages = [{ role: 'assistant', parts: [{ type: 'text', content: s(a[OPENINFERENCE.outputValue])! }] }];
  return messages;
}

/** ChatMessage[] → OpenAI chat-completions messages, the shape `retrace show`, the diff and the inspector read */
function toOpenAiMessages(system: MessagePart[], messages: ChatMessage[]): unknown[] {
  const out: unknown[] = [];
  const text = (parts: MessagePart[]) => parts.flatMap((p) => (p.type === 'text' ? [p.content] : [])).join('');
  if (system.length > 0) out.push({ role: 'system', content: text(system) });
  for (const m of messages) {
    const responses = m.parts.filter((p) => p.type === 'tool_call_response');
    if (responses.length > 0) {
      for (const r of responses)
        if (r.type === 'tool_call_response')
          out.push({
            role: 'tool',
            ...(r.id ? { tool_call_id: r.id } : {}),
            content: typeof r.response === 'string' ? r.response : JSON.stringify(r.response),
          });
      continue;
    }
    const calls = m.parts.flatMap((p, i) =>
      p.type === 'tool_call'
        ? [
            {
              id: p.id ?? `call_${i}`,
              type: 'function',
              function: {
                name: p.name,
                arguments: typeof p.arguments === 'string' ? p.arguments : JSON.stringify(p.arguments ?? {}),
              },
            },
          ]
        : [],
    );
    out.push({
      role: m.role,
      content: calls.length > 0 && text(m.parts) === '' ? null : text(m.parts),
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    });
  }
  return out;
}

function usageOf(a: Attrs): { inputTokens: number; outputTokens: number; cachedTokens?: number } | undefined {
  const input =
    n(a[GEN_AI.usageInputTokens]) ??
    n(a[GEN_AI.usagePromptTokens]) ??
    n(a[VERCEL_AI.usageInputTokens]) ??
    n(a[VERCEL_AI.usagePromptTokens]) ??
    n(a[OPENINFERENCE.tokenPrompt]);
  const output =
    n(a[GEN_AI.usageOutputTokens]) ??
    n(a[GEN_AI.usageCompletionTokens]) ??
    n(a[VERCEL_AI.usageOutputTokens]) ??
    n(a[VERCEL_AI.usageCompletionTokens]) ??
    n(a[OPENINFERENCE.tokenCompletion]);
  if (input === undefined && output === undefined) return undefined;
  const cached = n(a[GEN_AI.usageCacheReadInputTokens]);
  return {
    inputTokens: Math.trunc(input ?? 0),
    outputTokens: Math.trunc(output ?? 0),
    ...(cached !== undefined ? { cachedTokens: Math.trunc(cached) } : {}),
  };
}

interface Timed {
  ns: bigint;
  order: number;
  event: NewEvent;
}

function errorOf(span: SpanRecord): { name: string; message: string } | undefined {
  if (span.statusCode !== 2) return undefined;
  const exc = span.events.find((e) => e.name === 'exception');
  return {
    name: s(exc?.attributes['exception.type']) ?? s(span.attributes[HTTP.errorType]) ?? 'Error',
    message: span.statusMessage ?? s(exc?.attributes['exception.message']) ?? 'span ended with status ERROR',
  };
}

/** Maps the spans of ONE OTel trace. Throws nothing for odd spans: what cannot be mapped is kept generic or dropped. */
export function spansToTrace(spans: readonly SpanRecord[], options: ImportMappingOptions): ImportedTrace {
  const sorted = [...spans].sort((x, y) => (x.startNs < y.startNs ? -1 : x.startNs > y.startNs ? 1 : 0));
  const otelTraceId = sorted[0]?.traceId ?? '0'.repeat(32);
  const ids = new Set(sorted.map((sp) => sp.spanId));
  const roots = sorted.filter((sp) => sp.parentSpanId === undefined || !ids.has(sp.parentSpanId));
  const root = roots[0];
  const keepGeneric = options.keepGenericSpans !== false;
  const sources = new Set<SpanSource>();
  const timed: Timed[] = [];
  let order = 0;
  const push = (ns: bigint, event: NewEvent) => timed.push({ ns, order: order++, event });
  const hashes = new OccurrenceCounter();
  const toolOccurrences = new OccurrenceCounter();
  let lastAnswer = '';
  const totals = { llmCalls: 0, toolCalls: 0, httpCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

  for (const span of sorted) {
    const { role, source } = classify(span);
    const a = span.attributes;
    const start = nanosToIso(span.startNs);
    const end = nanosToIso(span.endNs);
    const latencyMs = Math.max(0, nanosToMs(span.endNs) - nanosToMs(span.startNs));
    const error = errorOf(span);
    const reqId = eventIdOf(otelTraceId, span.spanId, 'request');
    const resId = eventIdOf(otelTraceId, span.spanId, 'response');
    if (span === root && role !== 'llm' && role !== 'tool' && role !== 'http') {
      sources.add(source);
      continue;
    }
    if (role === 'llm') {
      sources.add(source);
      totals.llmCalls += 1;
      const storedReq = LlmRequestSchema.safeParse(json(a[RETRACE.requestPayload]));
      const storedRes = LlmResponseSchema.safeParse(json(a[RETRACE.responsePayload]));
      if (storedReq.success) {
        push(span.startNs, { eventId: reqId, timestamp: start, type: 'llm_request', payload: storedReq.data });
        if (storedRes.success) {
          const u = storedRes.data.usage;
          totals.inputTokens += u?.inputTokens ?? 0;
          totals.outputTokens += u?.outputTokens ?? 0;
          totals.costUsd += storedRes.data.costUsd ?? 0;
          push(span.endNs, {
            eventId: resId,
            timestamp: end,
            type: 'llm_response',
            parentEventId: reqId,
            payload: storedRes.data,
          });
        }
        continue;
      }
      const genOp = s(a[GEN_AI.operationName]);
      const embeddings =
        genOp === OPERATION.embeddings ||
        s(a[OPENINFERENCE.spanKind])?.toUpperCase() === 'EMBEDDING' ||
        s(a['llm.request.type']) === 'embedding' ||
        /doEmbed$/.test(s(a[VERCEL_AI.operationId]) ?? '');
      const operation = embeddings ? 'embeddings' : 'chat.completions';
      const provider = retraceProvider(
        s(a[GEN_AI.providerName]) ??
          s(a[GEN_AI.system]) ??
          s(a[OPENINFERENCE.provider]) ??
          s(a[OPENINFERENCE.system]) ??
          s(a[VERCEL_AI.modelProvider]),
      );
      const model =
        s(a[GEN_AI.requestModel]) ??
        s(a[VERCEL_AI.modelId]) ??
        s(a[OPENINFERENCE.modelName]) ??
        s(a[GEN_AI.responseModel]) ??
        '';
      const asked = inputMessages(a, source);
      const answer = outputMessages(a, source);
      const temperature = n(a[GEN_AI.requestTemperature]);
      const maxTokens = n(a[GEN_AI.requestMaxTokens]);
      const body: Record<string, unknown> = embeddings
        ? {
            model,
            input: asked.messages.map((m) => m.parts.flatMap((p) => (p.type === 'text' ? [p.content] : [])).join('')),
          }
        : {
            model,
            messages: toOpenAiMessages(asked.system, asked.messages),
            ...(temperature !== undefined ? { temperature } : {}),
            ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
          };
      const tools = json(a[GEN_AI.toolDefinitions]);
      if (Array.isArray(tools) && tools.length > 0) body.tools = tools;
      const url = s(a[HTTP.url]) ?? `otel://${provider}/${operation}`;
      const stream = a[GEN_AI.requestStream] === true || /doStream$/.test(s(a[VERCEL_AI.operationId]) ?? '');
      const hash = requestHash(
        normalizeRequest(
          { method: 'POST', url, body: JSON.stringify(body) },
          recordedEndpoint({ provider, operation, url }),
        ),
      );
      push(span.startNs, {
        eventId: reqId,
        timestamp: start,
        type: 'llm_request',
        payload: {
          provider,
          operation,
          model,
          method: 'POST',
          url,
          headers: {},
          body,
          stream,
          requestHash: hash,
          occurrence: hashes.next(hash),
        },
      });
      const usage = usageOf(a);
      const responseModel = s(a[GEN_AI.responseModel]) ?? s(a[VERCEL_AI.responseModel]) ?? model;
      const finish = (() => {
        const f = json(a[GEN_AI.responseFinishReasons]);
        if (Array.isArray(f) && typeof f[0] === 'string') return f[0];
        return s(a[VERCEL_AI.responseFinishReason]) ?? answer.find((m) => m.finish_reason)?.finish_reason;
      })();
      const costUsd = options.pricing && usage ? options.pricing.cost(responseModel || model, usage) : null;
      totals.inputTokens += usage?.inputTokens ?? 0;
      totals.outputTokens += usage?.outputTokens ?? 0;
      totals.costUsd += costUsd ?? 0;
      const responseBody = embeddings
        ? {
            object: 'list',
            model: responseModel,
            data: [],
            ...(usage ? { usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens } } : {}),
          }
        : {
            object: 'chat.completion',
            model: responseModel,
            ...(s(a[GEN_AI.responseId]) ? { id: s(a[GEN_AI.responseId]) } : {}),
            choices: (answer.length > 0 ? answer : [{ role: 'assistant', parts: [] }]).map((m, index) => ({
              index,
              message: toOpenAiMessages([], [{ ...m, role: 'assistant' }])[0],
              finish_reason: m.finish_reason ?? finish ?? null,
            })),
            ...(usage
              ? {
                  usage: {
                    prompt_tokens: usage.inputTokens,
                    completion_tokens: usage.outputTokens,
                    total_tokens: usage.inputTokens + usage.outputTokens,
                  },
                }
              : {}),
          };
      const text = answer
        .flatMap((m) => m.parts)
        .flatMap((p) => (p.type === 'text' ? [p.content] : []))
        .join('');
      if (text !== '') lastAnswer = text;
      push(span.endNs, {
        eventId: resId,
        timestamp: end,
        type: 'llm_response',
        parentEventId: reqId,
        payload: {
          provider,
          operation,
          model: responseModel,
          status: error ? 500 : 200,
          body: responseBody,
          ...(usage ? { usage } : {}),
          costUsd,
          latencyMs,
          ...(finish ? { finishReason: finish } : {}),
          ...(error ? { error } : {}),
        },
      });
    } else if (role === 'tool') {
      sources.add(source);
      totals.toolCalls += 1;
      const tool =
        s(a[GEN_AI.toolName]) ??
        s(a[VERCEL_AI.toolCallName]) ??
        s(a[OPENINFERENCE.toolName]) ??
        s(a['traceloop.entity.name']) ??
        span.name.replace(/^execute_tool /, '');
      const args =
        json(
          a[GEN_AI.toolCallArguments] ??
            a[VERCEL_AI.toolCallArgs] ??
            a[OPENINFERENCE.inputValue] ??
            a['traceloop.entity.input'],
        ) ?? null;
      const result = json(
        a[GEN_AI.toolCallResult] ??
          a[VERCEL_AI.toolCallResult] ??
          a[OPENINFERENCE.outputValue] ??
          a['traceloop.entity.output'],
      );
      const argsHash = toolArgsHash(tool, args);
      push(span.startNs, {
        eventId: reqId,
        timestamp: start,
        type: 'tool_call',
        payload: { tool: tool.slice(0, 200) || 'tool', args, argsHash, occurrence: toolOccurrences.next(argsHash) },
      });
      push(span.endNs, {
        eventId: resId,
        timestamp: end,
        type: 'tool_response',
        parentEventId: reqId,
        payload: {
          tool: tool.slice(0, 200) || 'tool',
          ...(result !== undefined ? { result } : {}),
          ...(error ? { error } : {}),
          latencyMs,
        },
      });
    } else if (role === 'http') {
      sources.add(source);
      totals.httpCalls += 1;
      const method = (s(a[HTTP.method]) ?? s(a['http.method']) ?? 'GET').toUpperCase();
      const url = s(a[HTTP.url]) ?? s(a['http.url']) ?? `otel://${s(a[HTTP.serverAddress]) ?? 'unknown'}/`;
      const hash = requestHash(normalizeRequest({ method, url }, undefined));
      push(span.startNs, {
        eventId: reqId,
        timestamp: start,
        type: 'http_request',
        payload: { method, url, headers: {}, requestHash: hash, occurrence: hashes.next(hash) },
      });
      const status = n(a[HTTP.statusCode]) ?? n(a['http.status_code']) ?? 0;
      push(span.endNs, {
        eventId: resId,
        timestamp: end,
        type: 'http_response',
        parentEventId: reqId,
        payload: { status: Math.trunc(status), latencyMs, ...(error ? { error } : {}) },
      });
    } else if (keepGeneric && role !== 'skip') {
      sources.add(source);
      push(span.startNs, {
        eventId: reqId,
        timestamp: start,
        type: 'decision_made',
        payload: {
          decision: span.name.slice(0, 500) || 'span',
          reason: 'OpenTelemetry span',
          data: {
            spanId: span.spanId,
            kind: span.kind,
            durationMs: latencyMs,
            attributes: a,
            ...(error ? { error } : {}),
          },
        },
      });
    }
  }

  const startNs = root?.startNs ?? sorted[0]?.startNs ?? 0n;
  const endNs = sorted.reduce((m, sp) => (sp.endNs > m ? sp.endNs : m), startNs);
  const ra = root?.attributes ?? {};
  const resource = root?.resource ?? {};
  const agent =
    (
      s(ra[GEN_AI.agentName]) ??
      s(ra[VERCEL_AI.telemetryFunctionId]) ??
      s(ra['traceloop.entity.name']) ??
      // the SDK's default service name says nothing about the agent
      (s(resource['service.name'])?.startsWith('unknown_service') ? undefined : s(resource['service.name'])) ??
      root?.name ??
      'imported'
    ).slice(0, 200) || 'imported';
  const input =
    json(
      ra[RETRACE.agentInput] ?? ra[OPENINFERENCE.inputValue] ?? ra['traceloop.entity.input'] ?? ra[VERCEL_AI.prompt],
    ) ?? null;
  const rootError = root ? errorOf(root) : undefined;
  timed.sort((x, y) => (x.ns < y.ns ? -1 : x.ns > y.ns ? 1 : x.order - y.order));
  const startedId = eventIdOf(otelTraceId, root?.spanId ?? 'root', 'started');
  const endId = eventIdOf(otelTraceId, root?.spanId ?? 'root', 'ended');
  const events: NewEvent[] = [
    {
      eventId: startedId,
      timestamp: nanosToIso(startNs),
      type: 'agent_started',
      payload: {
        agent,
        ...(options.entry !== undefined
          ? { entry: options.entry }
          : s(ra[RETRACE.agentEntry]) !== undefined
            ? { entry: s(ra[RETRACE.agentEntry]) }
            : {}),
        mode: 'api',
        input,
        environment: {
          node: s(resource['process.runtime.version']) ?? 'unknown',
          platform: s(resource['os.type']) ?? 'unknown',
          arch: s(resource['host.arch']) ?? 'unknown',
          retraceVersion: options.retraceVersion,
        },
        tags: ['imported'],
        metadata: {
          imported: {
            format: 'otlp',
            sources: [...sources].sort(),
            otelTraceId,
            ...(options.origin !== undefined ? { origin: options.origin } : {}),
            ...(s(ra[RETRACE.traceId]) !== undefined ? { retraceTraceId: s(ra[RETRACE.traceId]) } : {}),
            ...(s(resource['service.name']) !== undefined ? { serviceName: s(resource['service.name']) } : {}),
          },
        },
      },
    },
    ...timed.map((t) => t.event),
  ];
  const output =
    json(
      ra[RETRACE.agentOutput] ??
        ra[OPENINFERENCE.outputValue] ??
        ra['traceloop.entity.output'] ??
        ra[VERCEL_AI.responseText],
    ) ?? (lastAnswer === '' ? null : lastAnswer);
  const finalTotals = {
    ...totals,
    costUsd: Math.round(totals.costUsd * 1e9) / 1e9,
    durationMs: Math.max(0, nanosToMs(endNs) - nanosToMs(startNs)),
  };
  events.push(
    rootError
      ? {
          eventId: endId,
          timestamp: nanosToIso(endNs),
          type: 'agent_failed',
          payload: { error: rootError, totals: finalTotals },
        }
      : {
          eventId: endId,
          timestamp: nanosToIso(endNs),
          type: 'agent_completed',
          payload: { output, totals: finalTotals },
        },
  );
  return { traceId: retraceTraceIdOf(otelTraceId), otelTraceId, agent, sources: [...sources].sort(), events };
}
