import {
  type Attributes,
  type HrTime,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { StoredEvent, StoredEventOf } from '../events/envelope.js';
import { hrTimeDiff, isoToHrTime, msToHrTime, otelSpanIdOf, otelTraceIdOf } from './ids.js';
import { requestContent, responseContent, type ChatMessage } from './messages.js';
import { GEN_AI, HTTP, OPERATION, RETRACE, SEMCONV_SCHEMA_URL } from './semconv.js';

/**
 * A recorded retrace trace → OpenTelemetry spans following the GenAI semantic conventions (./semconv.ts): one
 * `invoke_agent` span for the run, a `chat`/`embeddings` client span per LLM call, an `execute_tool` span per tool call
 * and an HTTP client span per other request, timed by the recorded timestamps. The spans are plain ReadableSpan
 * objects, handed to the official OTLP serializers and exporters (./export.ts), so no OTLP encoding is written here.
 */

export interface SpanMappingOptions {
  /** add prompts, outputs, tool arguments and results (as stored, i.e. already redacted); off by default */
  includeContent?: boolean;
}

/** retrace's provider names → the semconv `gen_ai.provider.name` values */
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  'openai-compatible': 'openai',
  anthropic: 'anthropic',
  azure: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  gemini: 'gcp.gemini',
  google: 'gcp.gemini',
  bedrock: 'aws.bedrock',
  'aws-bedrock': 'aws.bedrock',
  mistral: 'mistral_ai',
  groq: 'groq',
  deepseek: 'deepseek',
  xai: 'x_ai',
  perplexity: 'perplexity',
  cohere: 'cohere',
};

export function semconvProviderName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider;
}

function operationName(operation: string): string {
  if (operation === 'embeddings' || operation.endsWith('embedContent')) return OPERATION.embeddings;
  if (operation === 'completions') return OPERATION.textCompletion;
  if (operation.includes('generateContent') || operation === 'generate_content') return OPERATION.generateContent;
  return OPERATION.chat;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function setIf(attrs: Attributes, key: string, value: unknown): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attrs[key] = value;
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) attrs[key] = value as string[];
}

/** request parameters named by the conventions, read from an OpenAI/Anthropic/Gemini body */
function requestParameters(body: unknown, attrs: Attributes): void {
  if (!isObj(body)) return;
  const config = isObj(body.generationConfig) ? body.generationConfig : {};
  setIf(attrs, GEN_AI.requestTemperature, body.temperature ?? config.temperature);
  setIf(attrs, GEN_AI.requestTopP, body.top_p ?? config.topP);
  setIf(attrs, GEN_AI.requestTopK, body.top_k ?? config.topK);
  setIf(
    attrs,
    GEN_AI.requestMaxTokens,
    body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens ?? config.maxOutputTokens,
  );
  setIf(attrs, GEN_AI.requestFrequencyPenalty, body.frequency_penalty);
  setIf(attrs, GEN_AI.requestPresencePenalty, body.presence_penalty);
  setIf(attrs, GEN_AI.requestSeed, body.seed);
  setIf(attrs, GEN_AI.requestChoiceCount, body.n);
  const stop = body.stop ?? body.stop_sequences ?? config.stopSequences;
  setIf(attrs, GEN_AI.requestStopSequences, typeof stop === 'string' ? [stop] : stop);
  const format = body.encoding_format;
  setIf(attrs, GEN_AI.requestEncodingFormats, typeof format === 'string' ? [format] : undefined);
}

function serverOf(url: string, attrs: Attributes): void {
  try {
    const u = new URL(url);
    attrs[HTTP.serverAddress] = u.hostname;
    attrs[HTTP.serverPort] = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  } catch {
    // a recorded URL that does not parse is still exported, without server attributes
  }
}

interface SpanDraft {
  name: string;
  kind: SpanKind;
  spanId: string;
  parentSpanId?: string;
  start: HrTime;
  end: HrTime;
  attributes: Attributes;
  status: { code: SpanStatusCode; message?: string };
  events: TimedEvent[];
}

/** A tool call's id, found in the LLM response that asked for it (same tool name and arguments). */
function toolCallIdFrom(
  messages: readonly ChatMessage[],
  tool: string,
  args: unknown,
  used: Set<string>,
): string | undefined {
  const wanted = JSON.stringify(args);
  for (const m of messages)
    for (const p of m.parts)
      if (
        p.type === 'tool_call' &&
        p.id &&
        !used.has(p.id) &&
        p.name === tool &&
        JSON.stringify(p.arguments) === wanted
      ) {
        used.add(p.id);
        return p.id;
      }
  return undefined;
}

function endOf(start: HrTime, responseTs: string | undefined, latencyMs: number | undefined): HrTime {
  if (responseTs !== undefined) {
    const end = isoToHrTime(responseTs);
    if (end[0] > start[0] || (end[0] === start[0] && end[1] >= start[1])) return end;
  }
  const startMs = start[0] * 1000 + start[1] / 1e6;
  return msToHrTime(startMs + (latencyMs ?? 0));
}

export function traceToSpans(events: readonly StoredEvent[], options: SpanMappingOptions = {}): ReadableSpan[] {
  const started = events[0];
  if (!started || started.type !== 'agent_started') return [];
  const tenantId = started.tenantId;
  const traceId = started.traceId;
  const otelTraceId = otelTraceIdOf(tenantId, traceId);
  const runSpanId = otelSpanIdOf(otelTraceId, started.seq);
  const content = options.includeContent === true;
  const responses = new Map<string, StoredEvent>();
  for (const e of events) if (e.parentEventId !== undefined) responses.set(e.parentEventId, e);

  const drafts: SpanDraft[] = [];
  const runEvents: TimedEvent[] = [];
  const openTools: { span: SpanDraft; eventId: string }[] = [];
  let lastAnswer: ChatMessage[] = [];
  const usedCallIds = new Set<string>();
  let terminal: StoredEvent | undefined;
  let last: StoredEvent = started;

  for (const e of events) {
    last = e;
    const start = isoToHrTime(e.timestamp);
    const base = { [RETRACE.seq]: e.seq, [RETRACE.eventType]: e.type };
    // a request made while exactly one tool is open (its HTTP) is that tool's child; otherwise the run's
    const parentSpanId = openTools.length === 1 ? openTools[0]!.span.spanId : runSpanId;
    if (e.type === 'llm_request') {
      const res = responses.get(e.eventId) as StoredEventOf<'llm_response'> | undefined;
      const op = operationName(e.payload.operation);
      const attrs: Attributes = {
        ...base,
        [GEN_AI.operationName]: op,
        [GEN_AI.providerName]: semconvProviderName(e.payload.provider),
        [GEN_AI.requestModel]: e.payload.model,
        [GEN_AI.requestStream]: e.payload.stream,
        [HTTP.method]: e.payload.method,
      };
      serverOf(e.payload.url, attrs);
      requestParameters(e.payload.body, attrs);
      const status: SpanDraft['status'] = { code: SpanStatusCode.UNSET };
      if (res) {
        attrs[RETRACE.endSeq] = res.seq;
        const answer = responseContent(res.payload.body, res.payload.chunks);
        lastAnswer = answer.messages;
        setIf(attrs, GEN_AI.responseModel, answer.responseModel ?? res.payload.model);
        setIf(attrs, GEN_AI.responseId, answer.responseId);
        const finish = res.payload.finishReason !== undefined ? [res.payload.finishReason] : answer.finishReasons;
        if (finish.length > 0) attrs[GEN_AI.responseFinishReasons] = finish;
        if (res.payload.usage) {
          attrs[GEN_AI.usageInputTokens] = res.payload.usage.inputTokens;
          attrs[GEN_AI.usageOutputTokens] = res.payload.usage.outputTokens;
          if (res.payload.usage.cachedTokens !== undefined)
            attrs[GEN_AI.usageCacheReadInputTokens] = res.payload.usage.cachedTokens;
        }
        if (res.payload.costUsd !== null) attrs[RETRACE.costUsd] = res.payload.costUsd;
        if (res.payload.status > 0) attrs[HTTP.statusCode] = res.payload.status;
        if (res.payload.error || res.payload.status >= 400) {
          status.code = SpanStatusCode.ERROR;
          status.message = res.payload.error?.message ?? `HTTP ${res.payload.status}`;
          attrs[HTTP.errorType] = res.payload.error?.name ?? String(res.payload.status);
        }
        if (content) {
          attrs[GEN_AI.outputMessages] = JSON.stringify(answer.messages);
          attrs[RETRACE.responsePayload] = JSON.stringify(res.payload);
        }
      }
      if (content) {
        const asked = requestContent(e.payload.body);
        attrs[GEN_AI.inputMessages] = JSON.stringify(asked.messages);
        if (asked.system.length > 0) attrs[GEN_AI.systemInstructions] = JSON.stringify(asked.system);
        if (asked.tools.length > 0) attrs[GEN_AI.toolDefinitions] = JSON.stringify(asked.tools);
        attrs[RETRACE.requestPayload] = JSON.stringify(e.payload);
      }
      drafts.push({
        name: `${op} ${e.payload.model}`.trim(),
        kind: SpanKind.CLIENT,
        spanId: otelSpanIdOf(otelTraceId, e.seq),
        parentSpanId,
        start,
        end: endOf(start, res?.timestamp, res?.payload.latencyMs),
        attributes: attrs,
        status,
        events: [],
      });
    } else if (e.type === 'tool_call') {
      const res = responses.get(e.eventId) as StoredEventOf<'tool_response'> | undefined;
      const attrs: Attributes = {
        ...base,
        [GEN_AI.operationName]: OPERATION.executeTool,
        [GEN_AI.toolName]: e.payload.tool,
        [GEN_AI.toolType]: 'function',
      };
      const callId = toolCallIdFrom(lastAnswer, e.payload.tool, e.payload.args, usedCallIds);
      if (callId !== undefined) attrs[GEN_AI.toolCallId] = callId;
      const status: SpanDraft['status'] = { code: SpanStatusCode.UNSET };
      if (res) {
        attrs[RETRACE.endSeq] = res.seq;
        if (res.payload.error) {
          status.code = SpanStatusCode.ERROR;
          status.message = res.payload.error.message;
          attrs[HTTP.errorType] = res.payload.error.name;
        }
        if (content && res.payload.result !== undefined)
          attrs[GEN_AI.toolCallResult] = JSON.stringify(res.payload.result);
      }
      if (content) attrs[GEN_AI.toolCallArguments] = JSON.stringify(e.payload.args);
      const span: SpanDraft = {
        name: `${OPERATION.executeTool} ${e.payload.tool}`,
        kind: SpanKind.INTERNAL,
        spanId: otelSpanIdOf(otelTraceId, e.seq),
        parentSpanId: runSpanId,
        start,
        end: endOf(start, res?.timestamp, res?.payload.latencyMs),
        attributes: attrs,
        status,
        events: [],
      };
      drafts.push(span);
      if (res) openTools.push({ span, eventId: e.eventId });
    } else if (e.type === 'tool_response') {
      const i = openTools.findIndex((t) => t.eventId === e.parentEventId);
      if (i >= 0) openTools.splice(i, 1);
    } else if (e.type === 'http_request') {
      const res = responses.get(e.eventId) as StoredEventOf<'http_response'> | undefined;
      const attrs: Attributes = { ...base, [HTTP.method]: e.payload.method, [HTTP.url]: e.payload.url };
      serverOf(e.payload.url, attrs);
      const status: SpanDraft['status'] = { code: SpanStatusCode.UNSET };
      if (res) {
        attrs[RETRACE.endSeq] = res.seq;
        if (res.payload.status > 0) attrs[HTTP.statusCode] = res.payload.status;
        if (res.payload.error || res.payload.status >= 400) {
          status.code = SpanStatusCode.ERROR;
          status.message = res.payload.error?.message ?? `HTTP ${res.payload.status}`;
          attrs[HTTP.errorType] = res.payload.error?.name ?? String(res.payload.status);
        }
      }
      drafts.push({
        name: e.payload.method,
        kind: SpanKind.CLIENT,
        spanId: otelSpanIdOf(otelTraceId, e.seq),
        parentSpanId,
        start,
        end: endOf(start, res?.timestamp, res?.payload.latencyMs),
        attributes: attrs,
        status,
        events: [],
      });
    } else if (e.type === 'decision_made') {
      const attributes: Attributes = { ...base, 'retrace.decision': e.payload.decision };
      setIf(attributes, 'retrace.decision.reason', e.payload.reason);
      runEvents.push({ name: 'retrace.decision', time: start, attributes });
    } else if (e.type === 'memory_updated') {
      runEvents.push({
        name: 'retrace.memory',
        time: start,
        attributes: { ...base, 'retrace.memory.key': e.payload.key, 'retrace.memory.operation': e.payload.operation },
      });
    } else if (e.type === 'agent_completed' || e.type === 'agent_failed') {
      terminal = e;
    }
  }

  const runAttrs: Attributes = {
    [GEN_AI.operationName]: OPERATION.invokeAgent,
    [GEN_AI.agentName]: started.payload.agent,
    [RETRACE.traceId]: traceId,
    [RETRACE.tenantId]: tenantId,
    [RETRACE.seq]: started.seq,
    [RETRACE.eventType]: 'agent_started',
  };
  setIf(runAttrs, RETRACE.agentEntry, started.payload.entry);
  setIf(runAttrs, RETRACE.replayOf, started.payload.replayOf?.traceId);
  const runStatus: SpanDraft['status'] = { code: SpanStatusCode.UNSET };
  if (content) runAttrs[RETRACE.agentInput] = JSON.stringify(started.payload.input ?? null);
  if (content && terminal?.type === 'agent_completed')
    runAttrs[RETRACE.agentOutput] = JSON.stringify(terminal.payload.output ?? null);
  if (terminal) {
    runAttrs[RETRACE.endSeq] = terminal.seq;
    const totals =
      terminal.type === 'agent_completed' || terminal.type === 'agent_failed' ? terminal.payload.totals : undefined;
    if (totals) {
      runAttrs[GEN_AI.usageInputTokens] = totals.inputTokens;
      runAttrs[GEN_AI.usageOutputTokens] = totals.outputTokens;
      runAttrs[RETRACE.costUsd] = totals.costUsd;
    }
    if (terminal.type === 'agent_failed') {
      runStatus.code = SpanStatusCode.ERROR;
      runStatus.message = terminal.payload.error.message;
      runAttrs[HTTP.errorType] = terminal.payload.error.name;
      runEvents.push({
        name: 'exception',
        time: isoToHrTime(terminal.timestamp),
        attributes: {
          'exception.type': terminal.payload.error.name,
          'exception.message': terminal.payload.error.message,
        },
      });
    }
  } else {
    runAttrs['retrace.incomplete'] = true;
  }
  const runStart = isoToHrTime(started.timestamp);
  drafts.unshift({
    name: `${OPERATION.invokeAgent} ${started.payload.agent}`,
    kind: SpanKind.INTERNAL,
    spanId: runSpanId,
    start: runStart,
    end: endOf(runStart, (terminal ?? last).timestamp, undefined),
    attributes: runAttrs,
    status: runStatus,
    events: runEvents,
  });

  const resource = resourceFromAttributes({
    'service.name': started.payload.agent,
    'telemetry.sdk.name': 'agent-retrace',
    'telemetry.sdk.language': 'nodejs',
    'retrace.version': started.payload.environment.retraceVersion,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': started.payload.environment.node.replace(/^v/, ''),
    'os.type': started.payload.environment.platform,
    'host.arch': started.payload.environment.arch,
  });
  const scope = {
    name: 'agent-retrace',
    version: started.payload.environment.retraceVersion,
    schemaUrl: SEMCONV_SCHEMA_URL,
  };
  return drafts.map((d): ReadableSpan => {
    const context: SpanContext = { traceId: otelTraceId, spanId: d.spanId, traceFlags: TraceFlags.SAMPLED };
    return {
      name: d.name,
      kind: d.kind,
      spanContext: () => context,
      ...(d.parentSpanId !== undefined
        ? { parentSpanContext: { traceId: otelTraceId, spanId: d.parentSpanId, traceFlags: TraceFlags.SAMPLED } }
        : {}),
      startTime: d.start,
      endTime: d.end,
      status: d.status,
      attributes: d.attributes,
      links: [],
      events: d.events,
      duration: hrTimeDiff(d.start, d.end),
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}
