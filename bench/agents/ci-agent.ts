import OpenAI from 'openai';

/**
 * bench/agents/ci-agent.mjs in TypeScript, line for line: the start benchmark replays both to measure what a
 * TypeScript agent costs over the same JavaScript (the sandbox transpiles it once, src/replay/sandbox/transpile.ts).
 */
interface CiInput {
  baseURL: string;
  apiKey: string;
  calls: number;
  caseId: string;
}
interface Ctx {
  tool?: <A, R>(name: string, fn: (args: A) => Promise<R>) => (args: A) => Promise<R>;
}

export async function ciAgent(input: CiInput, ctx?: Ctx): Promise<{ steps: number; open: number }> {
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
  const tool = ctx?.tool ?? (<A, R>(_name: string, fn: (args: A) => Promise<R>) => fn);
  const lookup = tool('lookup_case', async (args: { id: string; words: number }) => ({
    id: args.id,
    status: args.words % 2 === 0 ? 'open' : 'closed',
  }));
  const statuses: string[] = [];
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
