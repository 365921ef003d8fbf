// A plain LangChain.js chain, prompt | model | parser, as the LangChain docs write it; the model's settings come from
// the team's variables, the chain is built once at module load.
import { fileURLToPath } from 'node:url';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { ChatOpenAI } from '@langchain/openai';
import { createRecorder, type RunContext } from 'agent-retrace';

const recorder = createRecorder({ tenant: 'corpus' });
const prompt = ChatPromptTemplate.fromMessages([
  ['system', 'You summarise support tickets in one sentence.'],
  ['user', 'Ticket: {ticket}'],
]);
const model = new ChatOpenAI({
  model: process.env.CHAIN_MODEL,
  apiKey: process.env.CHAIN_LLM_KEY,
  configuration: { baseURL: process.env.CHAIN_LLM_URL },
});
const chain = prompt.pipe(model).pipe(new StringOutputParser());

export async function summarise(input: { ticket: string }, _ctx?: RunContext): Promise<string> {
  return chain.invoke({ ticket: input.ticket });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = { ticket: 'My parcel P-77 arrived damaged, I want a refund.' };
  const { traceId } = await recorder.run(
    { agent: 'langchain', entry: 'test/corpus/agents/langchain-chain.ts#summarise', input },
    (ctx) => summarise(input, ctx),
  );
  console.log(traceId);
}
