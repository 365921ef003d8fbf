import OpenAI from 'openai';

/**
 * A library-mode agent whose secrets come from its own environment (PAYMENTS_KEY, SERVICE_PASSWORD), the way agents
 * are written: the key goes into a tool's arguments, the tool's own HTTP (query, header, body), a prompt, and the
 * result. Replayed with different values, every request must still match ("redact but still match").
 */
export interface KeyedInput {
  baseURL: string;
  question: string;
  nested: unknown;
}

interface Ctx {
  tool<F extends (...args: never[]) => unknown>(name: string, fn: F): F;
}

const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY ?? 'sk-none', maxRetries: 0 });

export async function keyedAgent(input: KeyedInput, ctx: Ctx): Promise<unknown> {
  const key = process.env.PAYMENTS_KEY ?? '';
  const password = process.env.SERVICE_PASSWORD ?? '';
  const origin = new URL(input.baseURL).origin;
  // a tool (answered from the recording in a replay, so its arguments must match whatever the key is)
  const charge = ctx.tool(
    'charge',
    async (args: { apiKey: string; password: string; amount: number; card: unknown }) => ({
      receipt: `charged ${args.amount} using ${args.apiKey}`,
    }),
  );
  const receipt = await charge({ apiKey: key, password, amount: 5, card: input.nested });
  // the agent's own HTTP with the key in the query, a header and the body
  const res = await fetch(`${origin}/v1/charges?stripe=${key}&amount=5`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password, card: input.nested, note: `charging with ${key}` }),
  });
  await res.text();
  const answer = await new OpenAI({
    baseURL: input.baseURL,
    apiKey: client.apiKey,
    maxRetries: 0,
  }).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      // the key is recognised by its shape; the password only because the run saw it in a password field before
      { role: 'user', content: `${input.question} — pay with ${key}; the service password is ${password}` },
    ],
  });
  return { receipt, status: res.status, answer: answer.choices[0]?.message?.content ?? '', key };
}
