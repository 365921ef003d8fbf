// The OpenAI Agents SDK: an Agent with one zod tool, run with `run()`. The SDK's default client is replaced by one
// pointed at the team's gateway, the chat completions API is chosen (the LLM stub serves chat completions and
// non-streamed responses only, see fixtures/llm-stub/), and the SDK's own tracing export is off (no platform key).
import { fileURLToPath } from 'node:url';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import * as z from 'zod';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
setDefaultOpenAIClient(new OpenAI({ baseURL: process.env.TRIAGE_LLM_URL, apiKey: process.env.TRIAGE_LLM_KEY }));
setOpenAIAPI('chat_completions');
setTracingDisabled(true);
const checkStock = recorder.tool('check_stock', async ({ sku }: { sku: string }) => ({ sku, inStock: 3 }));
const agent = new Agent({
  name: 'Stock assistant',
  instructions: 'You answer stock questions with the tool.',
  model: 'gpt-4o-mini',
  tools: [
    tool({
      name: 'check_stock',
      description: 'units in stock for a SKU',
      parameters: z.object({ sku: z.string() }),
      execute: (args) => checkStock(args),
    }),
  ],
});

export async function stock(input: { question: string }, _ctx?: RunContext): Promise<string> {
  const result = await run(agent, input.question);
  return String(result.finalOutput ?? '');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: 'call check_stock({"sku":"SKU-5"})' };
  const { traceId } = await recorder.run(
    { agent: 'openai-agents', entry: 'test/corpus/agents/openai-agents.ts#stock', input },
    (ctx) => stock(input, ctx),
  );
  console.log(traceId);
}
