// Model name and a feature flag from the environment; the flag changes the prompt the agent builds.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createRecorder } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.ASSISTANT_BASE_URL, apiKey: process.env.ASSISTANT_API_KEY });

export async function summarize(input: { text: string }): Promise<string> {
  const model = process.env.ASSISTANT_MODEL ?? 'gpt-4o-mini';
  const style = process.env.ASSISTANT_TERSE === '1' ? 'one line' : 'a paragraph';
  const r = await openai.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: `Summarize in ${style}.` },
      { role: 'user', content: input.text },
    ],
  });
  return r.choices[0]?.message.content ?? '';
}

/** the same agent after a change of its default model: replaying the golden must say "model" */
export async function summarizeNewModel(input: { text: string }): Promise<string> {
  const r = await openai.chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [
      { role: 'system', content: `Summarize in ${process.env.ASSISTANT_TERSE === '1' ? 'one line' : 'a paragraph'}.` },
      { role: 'user', content: input.text },
    ],
  });
  return r.choices[0]?.message.content ?? '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { text: 'The parcel left the warehouse on Monday and arrives Thursday.' };
  const { traceId } = await recorder.run(
    { agent: 'env-model', entry: 'test/corpus/agents/env-model.ts#summarize', input },
    () => summarize(input),
  );
  console.log(traceId);
}
