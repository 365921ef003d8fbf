// Retrieval with embeddings, then a JSON-schema structured answer parsed by the agent.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createRecorder } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.RAG_LLM_URL, apiKey: process.env.RAG_LLM_KEY });
const docs = ['Refunds take 5 days.', 'Shipping is free over 50 EUR.', 'Returns within 30 days.'];

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

export async function answer(input: { question: string }): Promise<{ answer: unknown; source: string }> {
  const e = await openai.embeddings.create({ model: 'text-embedding-3-small', input: [input.question, ...docs] });
  const [q, ...d] = e.data.map((x) => x.embedding);
  const best = d.map((v, i) => ({ i, s: cosine(q ?? [], v) })).sort((x, y) => y.s - x.s)[0]?.i ?? 0;
  const r = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } } } },
    },
    messages: [{ role: 'user', content: `Context: ${docs[best]}\nQuestion: ${input.question}` }],
  });
  const text = r.choices[0]?.message.content ?? '';
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // the model answered in prose
  }
  return { answer: parsed, source: docs[best] ?? '' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: 'How long does a refund take?' };
  const { traceId } = await recorder.run(
    { agent: 'rag', entry: 'test/corpus/agents/structured-embeddings.ts#answer', input },
    () => answer(input),
  );
  console.log(traceId);
}
