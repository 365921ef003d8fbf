// Records keyedAgent in library mode, in a process of its own: `node --import tsx record-library.ts`. Store, trace id
// and the agent's input come from the environment the test gives this process.
import { createRecorder } from '../../../src/recorder/index.js';
import { keyedAgent, type KeyedInput } from './keyed-agent.js';

const recorder = createRecorder({
  store: process.env.RETRACE_STORE ?? '',
  tenant: 'default',
  providers: [process.env.STUB_OPENAI_BASE_URL ?? ''],
});
const input = JSON.parse(process.env.KEYED_INPUT ?? '{}') as KeyedInput;
const result = await recorder.run(
  {
    agent: 'keyed',
    entry: 'test/secrets/agents/keyed-agent.ts#keyedAgent',
    input,
    traceId: process.env.TRACE_ID ?? '',
  },
  (ctx) => keyedAgent(input, ctx as never),
);
await recorder.close();
process.stdout.write(`${result.traceId}\n`);
