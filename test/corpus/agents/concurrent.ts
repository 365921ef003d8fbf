// A service handling three requests at once, each its own recorded run, sharing one client and one wrapped tool.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.DESK_LLM_URL, apiKey: process.env.DESK_LLM_KEY });
const customer = recorder.tool('customer', async (id: string) => {
  await new Promise((r) => setTimeout(r, 5));
  return { id, tier: id.endsWith('1') ? 'gold' : 'basic' };
});

export async function desk(input: { customerId: string; question: string }, _ctx?: RunContext): Promise<string> {
  const c = await customer(input.customerId);
  const r = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `${c.tier} customer asks: ${input.question}` }],
  });
  return r.choices[0]?.message.content ?? '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const inputs = [
    { customerId: 'c-1', question: 'Can I change my address?' },
    { customerId: 'c-2', question: 'Where is my invoice?' },
    { customerId: 'c-3', question: 'Cancel my order, please.' },
  ];
  const results = await Promise.all(
    inputs.map((input) =>
      recorder.run({ agent: 'desk', entry: 'test/corpus/agents/concurrent.ts#desk', input }, (ctx) => desk(input, ctx)),
    ),
  );
  console.log(results.map((r) => r.traceId).join(' '));
}
