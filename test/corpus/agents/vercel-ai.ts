// The Vercel AI SDK: `generateText` with a zod tool and a step limit, the provider built at module load from the
// team's own variables. The chat model (`openai.chat`), since the LLM stub serves chat completions (as in
// test/otel/import.test.ts); the SDK calls `fetch` itself, so this is the recorder's fetch path, not the openai SDK's.
import { fileURLToPath } from 'node:url';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import * as z from 'zod';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = createOpenAI({ baseURL: process.env.WEATHER_LLM_URL, apiKey: process.env.WEATHER_LLM_KEY });
const getWeather = recorder.tool('get_weather', async ({ city }: { city: string }) => ({ city, tempC: 4 }));

export async function weather(input: { question: string }, _ctx?: RunContext): Promise<string> {
  const result = await generateText({
    model: openai.chat('gpt-4o-mini'),
    system: 'You answer weather questions with the tool.',
    prompt: input.question,
    tools: {
      get_weather: tool({
        description: 'Current weather for a city',
        inputSchema: z.object({ city: z.string() }),
        execute: (args) => getWeather(args),
      }),
    },
    stopWhen: stepCountIs(3),
  });
  return result.text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: 'Weather in Oslo? call get_weather({"city":"Oslo"})' };
  const { traceId } = await recorder.run(
    { agent: 'vercel-ai', entry: 'test/corpus/agents/vercel-ai.ts#weather', input },
    (ctx) => weather(input, ctx),
  );
  console.log(traceId);
}
