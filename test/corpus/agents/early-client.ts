// The SDK client is built before the recorder exists and holds its own reference to fetch: captured at undici's
// global dispatcher all the same.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const savedFetch = globalThis.fetch;
const openai = new OpenAI({ baseURL: process.env.EARLY_LLM_URL, apiKey: 'sk-early-not-a-real-key', fetch: savedFetch });
const { createRecorder } = await import('agent-retrace');
const recorder = createRecorder({ tenant: 'corpus' });

export async function triage(input: { subject: string }): Promise<string> {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: `Triage: ${input.subject}` }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { subject: 'refund not received' };
  const { traceId } = await recorder.run(
    { agent: 'early-client', entry: 'test/corpus/agents/early-client.ts#triage', input },
    () => triage(input),
  );
  console.log(traceId);
}
