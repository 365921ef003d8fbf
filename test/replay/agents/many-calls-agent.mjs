import OpenAI from 'openai';

/** The replay benchmark's agent in plain JavaScript: `calls` sequential chat completions through the real openai SDK. */
export async function manyCallsAgent(input) {
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
