// LangGraph's prebuilt ReAct agent with a MemorySaver checkpointer, invoked on a thread; ChatOpenAI gets its
// gateway through `configuration.baseURL` (it builds an openai SDK client inside) and its key from the environment.
import { fileURLToPath } from 'node:url';
import { tool } from '@langchain/core/tools';
import { MemorySaver } from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { ChatOpenAI } from '@langchain/openai';
import * as z from 'zod';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const model = new ChatOpenAI({
  model: 'gpt-4o-mini',
  apiKey: process.env.GRAPH_LLM_KEY,
  configuration: { baseURL: process.env.GRAPH_LLM_URL },
});
// the recorded tool handed to LangChain as is: LangChain calls it with the arguments and its RunnableConfig
const lookupInvoice = tool(
  recorder.tool('lookup_invoice', async ({ invoice }: { invoice: string }) => JSON.stringify({ invoice, due: 120 })),
  { name: 'lookup_invoice', description: 'an invoice by number', schema: z.object({ invoice: z.string() }) },
);
// module-level like the model: the checkpointer keeps every thread's state for the life of the process
const agent = createReactAgent({ llm: model, tools: [lookupInvoice], checkpointSaver: new MemorySaver() });

export async function billing(input: { question: string; thread: string }, _ctx?: RunContext): Promise<string> {
  const state = await agent.invoke(
    { messages: [{ role: 'user', content: input.question }] },
    { configurable: { thread_id: input.thread } },
  );
  const last = state.messages.at(-1);
  return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { question: 'call lookup_invoice({"invoice":"INV-9"})', thread: 'customer-42' };
  const { traceId } = await recorder.run(
    { agent: 'langgraph', entry: 'test/corpus/agents/langgraph-checkpointer.ts#billing', input },
    (ctx) => billing(input, ctx),
  );
  console.log(traceId);
}
