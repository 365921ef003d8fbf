// A briefing agent on the OpenAI Responses API, streamed: the endpoint and key come from the environment, the client
// is built at module load. The first turn iterates the raw events of `responses.create({ stream: true })` and prints
// the text as it arrives; the follow-up uses the SDK's `responses.stream()` helper and its final response.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.BRIEF_LLM_URL, apiKey: process.env.BRIEF_LLM_KEY });
const model = 'gpt-4.1-mini';

export async function brief(input: { topic: string }, _ctx?: RunContext): Promise<{ text: string; tokens: number }> {
  const stream = await openai.responses.create({ model, input: `Brief me on ${input.topic}`, stream: true });
  let text = '';
  let tokens = 0;
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') tokens += event.response.usage?.total_tokens ?? 0;
  }
  const followUp = openai.responses.stream({
    model,
    instructions: 'Answer in one sentence.',
    input: [
      { role: 'user', content: `Brief me on ${input.topic}` },
      { role: 'assistant', content: text },
      { role: 'user', content: 'And the one thing to watch?' },
    ],
  });
  const final = await followUp.finalResponse();
  tokens += final.usage?.total_tokens ?? 0;
  return { text: `${text}\n${final.output_text}`, tokens };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { topic: 'the Lyon hub delays' };
  const { traceId } = await recorder.run(
    { agent: 'responses-stream', entry: 'test/corpus/agents/responses-stream.ts#brief', input },
    (ctx) => brief(input, ctx),
  );
  console.log(traceId);
}
