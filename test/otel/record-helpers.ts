import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { createRecorder, type Recorder } from '../../src/recorder/index.js';
import { openStore } from '../../src/store/open-store.js';

/**
 * Records, through the real openai SDK against the local LLM stub, a small travel agent whose tool does its own HTTP
 * to a weather service of the test's: one successful run (two LLM calls, one tool with an HTTP call inside) and one
 * failed run (the tool throws). Used by the OpenTelemetry export and round-trip tests.
 */

export const KEY = 'sk-proj-Xq3vT8mN2pL5rK9wB4yH7jD1fG6sA0cE';

export interface Recorded {
  stub: LlmStub;
  weather: Server;
  weatherUrl: string;
  okTraceId: string;
  failedTraceId: string;
  close(): Promise<void>;
}

const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

async function travelAgent(openai: OpenAI, recorder: Recorder, weatherUrl: string, question: string): Promise<string> {
  const getWeather = recorder.tool('get_weather', async (args: { city: string }) => {
    const r = await fetch(`${weatherUrl}/weather?city=${encodeURIComponent(args.city)}`);
    if (!r.ok) throw new Error(`weather service answered ${r.status} for ${args.city}`);
    return (await r.json()) as unknown;
  });
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a travel assistant. Use tools for facts.' },
    { role: 'user', content: question },
  ];
  for (let round = 0; round < 3; round++) {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: TOOLS, temperature: 0.2 });
    const msg = r.choices[0]!.message;
    if (!msg.tool_calls?.length) return msg.content ?? '';
    messages.push(msg);
    for (const call of msg.tool_calls) {
      if (call.type !== 'function') continue;
      const result = await getWeather(JSON.parse(call.function.arguments) as { city: string });
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  return 'gave up';
}

export async function recordTravelTraces(storeUrl: string, tenant: string): Promise<Recorded> {
  const stub = await startLlmStub({ chunkDelayMs: 2 });
  const weather = createServer((req, res) => {
    const city = new URL(req.url ?? '/', 'http://x').searchParams.get('city') ?? '';
    if (city === 'Atlantis') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"unknown city"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ city, tempC: 21, sky: 'clear' }));
  });
  await new Promise<void>((r) => weather.listen(0, '127.0.0.1', () => r()));
  const addr = weather.address();
  const weatherUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const store = await openStore(storeUrl);
  // providers: the stub's base URL (a custom host is only recognised by shape once providers are recognised by shape)
  const recorder = createRecorder({ store, tenant, otlp: false, providers: [stub.openaiBaseUrl] });
  // built at module load in a real agent: the client exists before any run
  const openai = new OpenAI({ baseURL: stub.openaiBaseUrl, apiKey: KEY, maxRetries: 0 });
  const ok = await recorder.run({ agent: 'travel', input: { question: 'Lisbon?' } }, () =>
    travelAgent(openai, recorder, weatherUrl, 'Weather in Lisbon? call get_weather({"city":"Lisbon"})'),
  );
  let failedTraceId = '';
  try {
    await recorder.run({ agent: 'travel', input: { question: 'Atlantis?' }, traceId: 'tr_failed_travel_run' }, () =>
      travelAgent(openai, recorder, weatherUrl, 'Weather in Atlantis? call get_weather({"city":"Atlantis"})'),
    );
  } catch {
    failedTraceId = 'tr_failed_travel_run';
  }
  await recorder.close();
  await store.close();
  return {
    stub,
    weather,
    weatherUrl,
    okTraceId: ok.traceId,
    failedTraceId,
    async close() {
      await stub.close();
      await new Promise<void>((r) => weather.close(() => r()));
    },
  };
}

export async function readEvents(storeUrl: string, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const store = await openStore(storeUrl, { mustExist: true });
  try {
    const out: StoredEvent[] = [];
    for await (const e of store.read(tenant, traceId)) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}
