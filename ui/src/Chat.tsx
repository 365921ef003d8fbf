import type { StoredEvent } from '../../src/events/envelope.js';
import { parseJsonText, pretty } from './format.js';

/**
 * LLM requests and responses rendered as what they are: a conversation (system / user / assistant / tool messages),
 * the tools offered, the tool calls the model made with their arguments, and structured output as formatted JSON.
 * Knows the OpenAI chat, OpenAI responses and Anthropic messages shapes; anything else falls back to raw JSON.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function Json({ value }: { value: unknown }) {
  return <pre class="json">{pretty(value)}</pre>;
}

/** Text, or formatted JSON when the text is JSON (structured output, tool results). */
function Text({ text }: { text: string }) {
  const parsed = parseJsonText(text);
  if (parsed !== undefined) return <Json value={parsed} />;
  return <div class="text">{text}</div>;
}

function ToolCall({ name, args, id }: { name: string; args: unknown; id?: string }) {
  const parsed = typeof args === 'string' ? (parseJsonText(args) ?? args) : args;
  return (
    <div class="tool-call" data-testid="tool-call">
      <div class="tool-call-head">
        <span class="badge tool">tool call</span> <b class="mono">{name}</b>
        {id && <span class="muted mono"> {id}</span>}
      </div>
      <Json value={parsed} />
    </div>
  );
}

function Content({ content }: { content: unknown }) {
  if (typeof content === 'string') return <Text text={content} />;
  if (Array.isArray(content)) {
    return (
      <>
        {content.map((part, i) => {
          if (!isObj(part)) return <Json key={i} value={part} />;
          if (typeof part.text === 'string') return <Text key={i} text={part.text} />;
          if (part.type === 'tool_use')
            return <ToolCall key={i} name={String(part.name)} args={part.input} id={String(part.id ?? '')} />;
          if (part.type === 'tool_result')
            return (
              <div key={i}>
                <span class="muted">result for {String(part.tool_use_id ?? '')}</span>
                <Content content={part.content} />
              </div>
            );
          return <Json key={i} value={part} />;
        })}
      </>
    );
  }
  if (content === null || content === undefined) return null;
  return <Json value={content} />;
}

function Message({ who, children, testId }: { who: string; children: preact.ComponentChildren; testId?: string }) {
  return (
    <div class={`msg ${who}`} data-testid={testId ?? `msg-${who}`}>
      <div class="role">{who}</div>
      <div class="body">{children}</div>
    </div>
  );
}

function ChatMessage({ m }: { m: Obj }) {
  const role = String(m.role ?? m.type ?? 'message');
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as Obj[]) : [];
  return (
    <Message who={role}>
      {m.tool_call_id !== undefined && <div class="muted mono">answers {String(m.tool_call_id)}</div>}
      <Content content={m.content} />
      {calls.map((c, i) => {
        const fn = isObj(c.function) ? c.function : {};
        return <ToolCall key={i} name={String(fn.name ?? '?')} args={fn.arguments} id={String(c.id ?? '')} />;
      })}
    </Message>
  );
}

function Tools({ tools }: { tools: unknown }) {
  if (!Array.isArray(tools) || tools.length === 0) return null;
  return (
    <details class="tools">
      <summary>
        {tools.length} tool definition{tools.length > 1 ? 's' : ''}:{' '}
        {tools.map((t) => (isObj(t) ? String((isObj(t.function) ? t.function.name : t.name) ?? '?') : '?')).join(', ')}
      </summary>
      {tools.map((t, i) => {
        const def = isObj(t) && isObj(t.function) ? t.function : isObj(t) ? t : {};
        return (
          <div key={i} class="tool-def">
            <b class="mono">{String(def.name ?? '?')}</b> <span class="muted">{String(def.description ?? '')}</span>
            <Json value={def.parameters ?? def.input_schema ?? def} />
          </div>
        );
      })}
    </details>
  );
}

export function LlmRequestView({ body }: { body: unknown }) {
  if (!isObj(body)) return <Json value={body} />;
  const params = Object.fromEntries(
    Object.entries(body).filter(([k]) => !['messages', 'tools', 'input', 'system', 'instructions'].includes(k)),
  );
  return (
    <div class="chat" data-testid="chat-request">
      {typeof body.system === 'string' || Array.isArray(body.system) ? (
        <Message who="system">
          <Content content={body.system} />
        </Message>
      ) : null}
      {typeof body.instructions === 'string' && (
        <Message who="system">
          <Text text={body.instructions} />
        </Message>
      )}
      {Array.isArray(body.messages) && body.messages.map((m, i) => (isObj(m) ? <ChatMessage key={i} m={m} /> : null))}
      {typeof body.input === 'string' && (
        <Message who="user">
          <Text text={body.input} />
        </Message>
      )}
      {Array.isArray(body.input) && body.input.map((m, i) => (isObj(m) ? <ChatMessage key={i} m={m} /> : null))}
      <Tools tools={body.tools} />
      <details class="params">
        <summary>parameters</summary>
        <Json value={params} />
      </details>
    </div>
  );
}

/** Assembles the text and tool calls of an OpenAI chat stream from its SSE chunks. */
function assembleStream(chunks: { t: number; data: string }[]): {
  text: string;
  calls: Map<number, { name: string; args: string }>;
} {
  let text = '';
  const calls = new Map<number, { name: string; args: string }>();
  for (const c of chunks) {
    for (const line of c.data.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (!data || data === '[DONE]') continue;
      let j: unknown;
      try {
        j = JSON.parse(data);
      } catch {
        continue;
      }
      if (!isObj(j)) continue;
      const delta = Array.isArray(j.choices) && isObj(j.choices[0]) ? j.choices[0].delta : undefined;
      if (isObj(delta)) {
        if (typeof delta.content === 'string') text += delta.content;
        if (Array.isArray(delta.tool_calls))
          for (const tc of delta.tool_calls) {
            if (!isObj(tc)) continue;
            const idx = Number(tc.index ?? 0);
            const cur = calls.get(idx) ?? { name: '', args: '' };
            const fn = isObj(tc.function) ? tc.function : {};
            if (typeof fn.name === 'string') cur.name += fn.name;
            if (typeof fn.arguments === 'string') cur.args += fn.arguments;
            calls.set(idx, cur);
          }
      }
      // anthropic stream
      if (j.type === 'content_block_delta' && isObj(j.delta) && typeof j.delta.text === 'string') text += j.delta.text;
      // responses stream
      if (j.type === 'response.output_text.delta' && typeof j.delta === 'string') text += j.delta;
    }
  }
  return { text, calls };
}

export function LlmResponseView({ event }: { event: Extract<StoredEvent, { type: 'llm_response' }> }) {
  const p = event.payload;
  const body = p.body;
  const parts: preact.ComponentChildren[] = [];
  if (p.error)
    parts.push(
      <div class="error" role="note">
        {p.error.name}: {p.error.message}
      </div>,
    );
  if (isObj(body) && Array.isArray(body.choices)) {
    for (const [i, ch] of body.choices.entries())
      if (isObj(ch) && isObj(ch.message)) parts.push(<ChatMessage key={i} m={ch.message} />);
  } else if (isObj(body) && Array.isArray(body.content)) {
    parts.push(
      <Message who="assistant">
        <Content content={body.content} />
      </Message>,
    );
  } else if (isObj(body) && Array.isArray(body.output)) {
    for (const [i, item] of body.output.entries()) {
      if (!isObj(item)) continue;
      if (item.type === 'function_call')
        parts.push(<ToolCall key={i} name={String(item.name)} args={item.arguments} id={String(item.call_id ?? '')} />);
      else parts.push(<ChatMessage key={i} m={{ role: 'assistant', ...item }} />);
    }
  } else if (p.chunks) {
    const { text, calls } = assembleStream(p.chunks);
    parts.push(
      <Message who="assistant">
        {text && <Text text={text} />}
        {[...calls.values()].map((c, i) => (
          <ToolCall key={i} name={c.name} args={c.args} />
        ))}
      </Message>,
    );
  } else if (body !== undefined) parts.push(<Json value={body} />);
  return (
    <div class="chat" data-testid="chat-response">
      <div class="meta">
        <span>status {p.status}</span>
        <span>latency {Math.round(p.latencyMs)} ms</span>
        {p.usage && (
          <span>
            tokens {p.usage.inputTokens} in / {p.usage.outputTokens} out
          </span>
        )}
        <span>cost {p.costUsd === null ? 'unpriced' : `$${p.costUsd.toFixed(6)}`}</span>
        {p.finishReason && <span>finish {p.finishReason}</span>}
      </div>
      {parts}
      {p.chunks && (
        <details class="chunks">
          <summary>{p.chunks.length} streamed chunks</summary>
          <ol>
            {p.chunks.map((c, i) => (
              <li key={i}>
                <span class="muted">+{Math.round(c.t)} ms</span> <code>{c.data.trim().slice(0, 200)}</code>
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
