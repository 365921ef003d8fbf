// A support agent configured the way teams configure agents: the gateway URL, key and model come from the
// environment, the client is built at module load, the tool is wrapped once at the top of the file.
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.LLM_GATEWAY_URL, apiKey: process.env.LLM_GATEWAY_KEY });
const lookupOrder = recorder.tool('lookup_order', async (args: { orderId: string }) => ({
  orderId: args.orderId,
  status: 'shipped',
}));

export async function support(input: { question: string }, _ctx?: RunContext): Promise<string> {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    {
      type: 'function',
      function: { name: 'lookup_order', parameters: { type: 'object', properties: { orderId: { type: 'string' } } } },
    },
  ];
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: input.question }];
  for (let turn = 0; turn < 4; turn++) {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    const msg = r.choices[0]?.message;
    if (!msg?.tool_calls?.length) return msg?.content ?? '';
    messages.push(msg);
    for (const call of msg.tool_calls) {
      if (call.type !== 'function') continue;
      const result = await lookupOrder(JSON.parse(call.function.arguments) as { orderId: string });
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  return 'gave up';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: process.argv[2] ?? 'call lookup_order({"orderId":"A-1001"})' };
  const { traceId } = await recorder.run(
    { agent: 'env-base-url', entry: 'test/corpus/agents/env-base-url.ts#support', input },
    (ctx) => support(input, ctx),
  );
  console.log(traceId);
}
