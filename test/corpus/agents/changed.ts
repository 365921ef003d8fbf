// Changed versions of env-base-url.ts's agent, as a developer would change it: each replays the same golden and must
// diverge at the step it changed, with the right class.
import OpenAI from 'openai';
import { createRecorder } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const openai = new OpenAI({ baseURL: process.env.LLM_GATEWAY_URL, apiKey: process.env.LLM_GATEWAY_KEY });
const lookupOrder = recorder.tool('lookup_order', async (args: { orderId: string }) => ({
  orderId: args.orderId,
  status: 'shipped',
}));
const tools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'lookup_order', parameters: { type: 'object', properties: { orderId: { type: 'string' } } } },
  },
];

async function loop(
  question: string,
  change: { model?: string; toolArgs?: (a: { orderId: string }) => { orderId: string }; followUp?: boolean },
): Promise<string> {
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: question }];
  for (let turn = 0; turn < 4; turn++) {
    const r = await openai.chat.completions.create({ model: change.model ?? 'gpt-4o-mini', messages, tools });
    const msg = r.choices[0]?.message;
    if (!msg?.tool_calls?.length) {
      if (change.followUp) {
        await openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Rate it.' }],
        });
      }
      return msg?.content ?? '';
    }
    messages.push(msg);
    for (const call of msg.tool_calls) {
      if (call.type !== 'function') continue;
      const args = JSON.parse(call.function.arguments) as { orderId: string };
      const result = await lookupOrder(change.toolArgs ? change.toolArgs(args) : args);
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  return 'gave up';
}

export const changedPrompt = (input: { question: string }) => loop(`${input.question} Please be brief.`, {});
export const changedToolArgument = (input: { question: string }) =>
  loop(input.question, { toolArgs: (a) => ({ orderId: a.orderId.toLowerCase() }) });
export const extraLlmCall = (input: { question: string }) => loop(input.question, { followUp: true });
export const changedModel = (input: { question: string }) => loop(input.question, { model: 'gpt-4.1-mini' });
