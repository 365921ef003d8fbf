// Claude through the official SDK with a tool that does its own HTTP with axios (a shipping API), settings from env.
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import axios from 'axios';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const claude = new Anthropic({ baseURL: process.env.CLAUDE_BASE_URL, apiKey: process.env.CLAUDE_API_KEY });
const track = recorder.tool('track_parcel', async (args: { parcel: string }) => {
  const { data } = await axios.get<{ parcel: string; where: string }>(
    `${process.env.SHIPPING_API_URL}/parcels/${encodeURIComponent(args.parcel)}`,
  );
  return data;
});

export async function shipping(input: { question: string }, _ctx?: RunContext): Promise<string> {
  const tools: Anthropic.Tool[] = [
    {
      name: 'track_parcel',
      description: 'where a parcel is',
      input_schema: { type: 'object', properties: { parcel: { type: 'string' } } },
    },
  ];
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: input.question }];
  for (let turn = 0; turn < 4; turn++) {
    const r = await claude.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 256, messages, tools });
    const uses = r.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    if (uses.length === 0) return r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    messages.push({ role: 'assistant', content: r.content });
    const results: Anthropic.ToolResultBlockParam[] = [];
    for (const use of uses) {
      const found = await track(use.input as { parcel: string });
      results.push({ type: 'tool_result', tool_use_id: use.id, content: JSON.stringify(found) });
    }
    messages.push({ role: 'user', content: results });
  }
  return 'gave up';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: 'call track_parcel({"parcel":"P-77"})' };
  const { traceId } = await recorder.run(
    { agent: 'anthropic-axios', entry: 'test/corpus/agents/anthropic-axios.ts#shipping', input },
    (ctx) => shipping(input, ctx),
  );
  console.log(traceId);
}
