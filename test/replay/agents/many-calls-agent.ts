import OpenAI from 'openai';

/** An agent that makes `calls` sequential chat completions through the real openai SDK (the replay benchmark's trace). */
export async function manyCallsAgent(input: {
  baseURL: string;
  apiKey: string;
  calls: number;
}): Promise<{ answers: number }> {
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  let answers = 0;
  for (let i = 0; i < input.calls; i++) {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `question ${i}` }],
    });
    if (r.choices[0]?.message.content) answers++;
  }
  return { answers };
}
