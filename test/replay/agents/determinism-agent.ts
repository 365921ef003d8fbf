import { getRandomValues, randomUUID } from 'node:crypto';
import OpenAI from 'openai';

/**
 * Uses every nondeterministic source the recorder captures, parallel tool calls, a timer and an SDK retry after a 429
 * (the stub's [[fail-once:429]]), so an identical replay proves values, tools and retries all come back in order.
 */
export interface DeterminismInput {
  baseURL: string;
  apiKey: string;
}

interface Ctx {
  tool?: <F extends (...args: never[]) => unknown>(name: string, fn: F) => F;
}

export async function determinismAgent(input: DeterminismInput, ctx?: Ctx) {
  const wrap = ctx?.tool ?? (<F>(_n: string, f: F) => f);
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 2 });
  const started = Date.now();
  const t0 = performance.now();
  const when = new Date().toISOString();
  const id = randomUUID();
  const bytes = Array.from(getRandomValues(new Uint8Array(4)));
  const jitter = Math.floor(Math.random() * 1000);
  await new Promise((r) => setTimeout(r, jitter)); // up to a second of recorded backoff, fast-forwarded in replay
  const first = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `run ${id} [[fail-once:429]] jitter ${jitter}` }],
  });
  const lookup = wrap('lookup', async (args: { key: string; n: number }) => ({
    key: args.key,
    n: args.n,
    salt: Math.random(),
  }));
  const results = await Promise.all([1, 2, 3].map((n) => lookup({ key: id, n })));
  const second = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `results ${JSON.stringify(results.map((r) => r.n))} at ${when}` }],
  });
  return {
    id,
    bytes,
    jitter,
    when,
    elapsed: Date.now() - started,
    perf: Math.round(performance.now() - t0),
    answers: [first.choices[0]?.message.content, second.choices[0]?.message.content],
    salts: results.map((r) => r.salt),
  };
}

export async function failingAgent(input: DeterminismInput): Promise<never> {
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  const r = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello' }],
  });
  throw new RangeError(`refusing to continue after: ${r.choices[0]?.message.content ?? ''}`.slice(0, 60));
}

export async function connectingAgent(input: DeterminismInput & { port: number }) {
  const net = await import('node:net');
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const outcome = await new Promise<string>((resolve) => {
    const s = net.connect(input.port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
  });
  return { answer: r.choices[0]?.message.content, outcome };
}

export async function writingAgent(input: DeterminismInput & { target: string }) {
  const { writeFileSync } = await import('node:fs');
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  try {
    writeFileSync(input.target, 'escaped');
    return { wrote: true };
  } catch (e) {
    return { wrote: false, code: (e as { code?: string }).code };
  }
}
