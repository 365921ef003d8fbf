import OpenAI from 'openai';

/**
 * The `retrace ci` benchmark's agent, plain JavaScript (the sandbox runs it without a loader): `calls` rounds of
 * "ask the model (real openai SDK) → run a tool on the answer", so a recording has ~7 events per round
 * (llm_request, llm_response, tool_call, tool_response, and the nondeterministic values the SDK reads): 7 rounds ≈ 50.
 */
export async function ciAgent(input, ctx) {
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  const tool = ctx?.tool ?? ((_name, fn) => fn);
  const lookup = tool('lookup_case', async (args) => ({
    id: args.id,
    status: args.words % 2 === 0 ? 'open' : 'closed',
  }));
  const statuses = [];
  for (let i = 0; i < input.calls; i++) {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You triage support cases.' },
        { role: 'user', content: `case ${input.caseId}, step ${i}; last status: ${statuses.at(-1) ?? 'none'}` },
      ],
    });
    const text = r.choices[0]?.message.content ?? '';
    const result = await lookup({ id: `${input.caseId}-${i}`, words: text.split(/\s+/).length });
    statuses.push(result.status);
  }
  return { steps: statuses.length, open: statuses.filter((s) => s === 'open').length };
}
