/**
 * Provider request/response bodies ↔ the GenAI semantic conventions' message format (gen_ai.input.messages,
 * gen_ai.output.messages, gen_ai.system_instructions: a role and a list of typed parts). Only the shapes of the
 * providers retrace records are read (OpenAI chat completions / responses / embeddings, Anthropic messages, Gemini
 * generateContent); anything else is left out rather than guessed.
 */

export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: unknown };

export interface ChatMessage {
  role: string;
  parts: MessagePart[];
  finish_reason?: string;
}

export interface RequestContent {
  system: MessagePart[];
  messages: ChatMessage[];
  tools: unknown[];
}

export interface ResponseContent {
  messages: ChatMessage[];
  responseModel?: string;
  responseId?: string;
  finishReasons: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function parseJsonMaybe(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** text parts of an OpenAI/Anthropic `content` that is a string or a list of blocks */
function contentParts(content: unknown): MessagePart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', content }];
  const parts: MessagePart[] = [];
  for (const block of arr(content)) {
    if (!isObj(block)) continue;
    const text =
      str(block.text) ?? (block.type === 'input_text' || block.type === 'output_text' ? str(block.text) : undefined);
    if (text !== undefined) parts.push({ type: 'text', content: text });
    else if (block.type === 'tool_use')
      parts.push({
        type: 'tool_call',
        ...(str(block.id) ? { id: str(block.id) } : {}),
        name: str(block.name) ?? '',
        arguments: block.input,
      });
    else if (block.type === 'tool_result')
      parts.push({
        type: 'tool_call_response',
        ...(str(block.tool_use_id) ? { id: str(block.tool_use_id) } : {}),
        response: block.content,
      });
  }
  return parts;
}

function openAiToolCalls(calls: unknown): MessagePart[] {
  return arr(calls).flatMap((c): MessagePart[] => {
    if (!isObj(c) || !isObj(c.function)) return [];
    return [
      {
        type: 'tool_call',
        ...(str(c.id) ? { id: str(c.id) } : {}),
        name: str(c.function.name) ?? '',
        arguments: parseJsonMaybe(c.function.arguments),
      },
    ];
  });
}

function geminiParts(parts: unknown): MessagePart[] {
  return arr(parts).flatMap((p): MessagePart[] => {
    if (!isObj(p)) return [];
    if (typeof p.text === 'string') return [{ type: 'text', content: p.text }];
    if (isObj(p.functionCall))
      return [{ type: 'tool_call', name: str(p.functionCall.name) ?? '', arguments: p.functionCall.args }];
    if (isObj(p.functionResponse)) return [{ type: 'tool_call_response', response: p.functionResponse.response }];
    return [];
  });
}

/** The conversation a request sends: system instructions, the messages, the tool definitions. */
export function requestContent(body: unknown): RequestContent {
  const out: RequestContent = { system: [], messages: [], tools: [] };
  if (!isObj(body)) return out;
  out.tools = arr(body.tools);
  // Anthropic: a separate system field
  if (body.system !== undefined) out.system.push(...contentParts(body.system));
  // OpenAI Responses: instructions + input
  if (typeof body.instructions === 'string') out.system.push({ type: 'text', content: body.instructions });
  // Gemini: systemInstruction + contents
  if (isObj(body.systemInstruction)) out.system.push(...geminiParts(body.systemInstruction.parts));
  for (const m of arr(body.messages)) {
    if (!isObj(m)) continue;
    const role = str(m.role) ?? 'user';
    if (role === 'tool') {
      out.messages.push({
        role: 'tool',
        parts: [
          {
            type: 'tool_call_response',
            ...(str(m.tool_call_id) ? { id: str(m.tool_call_id) } : {}),
            response: m.content,
          },
        ],
      });
      continue;
    }
    out.messages.push({ role, parts: [...contentParts(m.content), ...openAiToolCalls(m.tool_calls)] });
  }
  if (typeof body.input === 'string')
    out.messages.push({ role: 'user', parts: [{ type: 'text', content: body.input }] });
  else if (Array.isArray(body.input) && body.messages === undefined) {
    for (const item of body.input) {
      if (!isObj(item)) continue;
      if (item.type === 'function_call_output')
        out.messages.push({
          role: 'tool',
          parts: [
            {
              type: 'tool_call_response',
              ...(str(item.call_id) ? { id: str(item.call_id) } : {}),
              response: item.output,
            },
          ],
        });
      else if (item.type === 'function_call')
        out.messages.push({
          role: 'assistant',
          parts: [
            {
              type: 'tool_call',
              ...(str(item.call_id) ? { id: str(item.call_id) } : {}),
              name: str(item.name) ?? '',
              arguments: parseJsonMaybe(item.arguments),
            },
          ],
        });
      else if (typeof item === 'object')
        out.messages.push({ role: str(item.role) ?? 'user', parts: contentParts(item.content) });
    }
  }
  for (const c of arr(body.contents)) {
    if (!isObj(c)) continue;
    out.messages.push({
      role: str(c.role) === 'model' ? 'assistant' : (str(c.role) ?? 'user'),
      parts: geminiParts(c.parts),
    });
  }
  return out;
}

function responseFromBody(body: Obj, out: ResponseContent): void {
  if (typeof body.model === 'string') out.responseModel = body.model;
  if (typeof body.modelVersion === 'string') out.responseModel = body.modelVersion;
  if (typeof body.id === 'string') out.responseId = body.id;
  if (typeof body.responseId === 'string') out.responseId = body.responseId;
  // OpenAI chat completions
  for (const choice of arr(body.choices)) {
    if (!isObj(choice)) continue;
    const msg = isObj(choice.message) ? choice.message : {};
    const finish = str(choice.finish_reason);
    if (finish) out.finishReasons.push(finish);
    out.messages.push({
      role: str(msg.role) ?? 'assistant',
      parts: [...contentParts(msg.content), ...openAiToolCalls(msg.tool_calls)],
      ...(finish ? { finish_reason: finish } : {}),
    });
  }
  // Anthropic messages
  if (body.type === 'message' && Array.isArray(body.content)) {
    const finish = str(body.stop_reason);
    if (finish) out.finishReasons.push(finish);
    out.messages.push({
      role: 'assistant',
      parts: contentParts(body.content),
      ...(finish ? { finish_reason: finish } : {}),
    });
  }
  // OpenAI responses
  if (body.object === 'response' && Array.isArray(body.output)) {
    const parts: MessagePart[] = [];
    for (const item of body.output) {
      if (!isObj(item)) continue;
      if (item.type === 'message') parts.push(...contentParts(item.content));
      if (item.type === 'function_call')
        parts.push({
          type: 'tool_call',
          ...(str(item.call_id) ? { id: str(item.call_id) } : {}),
          name: str(item.name) ?? '',
          arguments: parseJsonMaybe(item.arguments),
        });
    }
    const finish = str(body.status);
    if (finish) out.finishReasons.push(finish);
    out.messages.push({ role: 'assistant', parts, ...(finish ? { finish_reason: finish } : {}) });
  }
  // Gemini
  for (const cand of arr(body.candidates)) {
    if (!isObj(cand)) continue;
    const finish = str(cand.finishReason);
    if (finish) out.finishReasons.push(finish);
    out.messages.push({
      role: 'assistant',
      parts: geminiParts(isObj(cand.content) ? cand.content.parts : []),
      ...(finish ? { finish_reason: finish } : {}),
    });
  }
}

/** Folds the data lines of a streamed (SSE) response into one message, for OpenAI chat, Responses and Anthropic. */
function responseFromChunks(chunks: readonly string[], out: ResponseContent): void {
  let text = '';
  const calls = new Map<number, { id?: string; name: string; args: string }>();
  let finish: string | undefined;
  let completed: Obj | undefined;
  for (const raw of chunks) {
    for (const line of raw.split('\n')) {
      const data = line.startsWith('data:') ? line.slice(5).trim() : line.trim();
      if (data === '' || data === '[DONE]' || !data.startsWith('{')) continue;
      let ev: unknown;
      try {
        ev = JSON.parse(data);
      } catch {
        continue;
      }
      if (!isObj(ev)) continue;
      if (typeof ev.model === 'string') out.responseModel = ev.model;
      if (typeof ev.id === 'string' && out.responseId === undefined) out.responseId = ev.id;
      for (const choice of arr(ev.choices)) {
        if (!isObj(choice)) continue;
        const delta = isObj(choice.delta) ? choice.delta : {};
        if (typeof delta.content === 'string') text += delta.content;
        for (const tc of arr(delta.tool_calls)) {
          if (!isObj(tc)) continue;
          const index = typeof tc.index === 'number' ? tc.index : 0;
          const slot = calls.get(index) ?? { name: '', args: '' };
          if (typeof tc.id === 'string') slot.id = tc.id;
          if (isObj(tc.function)) {
            if (typeof tc.function.name === 'string') slot.name += tc.function.name;
            if (typeof tc.function.arguments === 'string') slot.args += tc.function.arguments;
          }
          calls.set(index, slot);
        }
        if (typeof choice.finish_reason === 'string') finish = choice.finish_reason;
      }
      // Anthropic
      if (ev.type === 'content_block_delta' && isObj(ev.delta) && typeof ev.delta.text === 'string')
        text += ev.delta.text;
      if (ev.type === 'message_delta' && isObj(ev.delta) && typeof ev.delta.stop_reason === 'string')
        finish = ev.delta.stop_reason;
      if (ev.type === 'message_start' && isObj(ev.message) && typeof ev.message.model === 'string')
        out.responseModel = ev.message.model;
      // OpenAI responses
      if (ev.type === 'response.completed' && isObj(ev.response)) completed = ev.response;
      // Gemini streams whole GenerateContentResponse objects
      if (Array.isArray(ev.candidates)) {
        for (const cand of ev.candidates) {
          if (!isObj(cand)) continue;
          for (const p of geminiParts(isObj(cand.content) ? cand.content.parts : []))
            if (p.type === 'text') text += p.content;
          if (typeof cand.finishReason === 'string') finish = cand.finishReason;
        }
      }
    }
  }
  if (completed) {
    responseFromBody(completed, out);
    return;
  }
  const parts: MessagePart[] = text === '' ? [] : [{ type: 'text', content: text }];
  for (const c of [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c))
    parts.push({ type: 'tool_call', ...(c.id ? { id: c.id } : {}), name: c.name, arguments: parseJsonMaybe(c.args) });
  if (finish) out.finishReasons.push(finish);
  out.messages.push({ role: 'assistant', parts, ...(finish ? { finish_reason: finish } : {}) });
}

/** What the model answered: its messages, the response model and id, the finish reasons. */
export function responseContent(body: unknown, chunks?: readonly { data: string }[]): ResponseContent {
  const out: ResponseContent = { messages: [], finishReasons: [] };
  if (chunks && chunks.length > 0)
    responseFromChunks(
      chunks.map((c) => c.data),
      out,
    );
  else if (isObj(body)) responseFromBody(body, out);
  return out;
}

/** The plain text of a list of messages (for an imported trace's output). */
export function textOf(messages: readonly ChatMessage[]): string {
  return messages
    .flatMap((m) => m.parts)
    .flatMap((p) => (p.type === 'text' ? [p.content] : []))
    .join('');
}
