import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEntries, supportAgent } from '../../fixtures/agents/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { createRecorder } from '../../src/recorder/index.js';
import { openStore } from '../../src/store/index.js';

export const TENANT = 'acme';
export const OTHER = 'globex';
export const REFUND_QUESTION =
  'My order A-1001 arrived broken. call lookup_order({"orderId":"A-1001"}) then call refund_order({"orderId":"A-1001","reason":"arrived broken"})';

export interface RecordedStore {
  dir: string;
  url: string;
  stub: LlmStub;
  refund: string;
  hello: string;
  other: string;
  cleanup(): Promise<void>;
}

/** A real SQLite store with support-agent runs recorded through the real openai SDK against the LLM stub. */
export async function recordStore(): Promise<RecordedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-ui-test-'));
  const url = `sqlite:${join(dir, 'retrace.db')}`;
  const stub = await startLlmStub();
  const store = await openStore(url);
  const run = async (tenant: string, customerId: string, question: string) => {
    const recorder = createRecorder({ store, tenant, providers: [stub.openaiBaseUrl] });
    const input = { baseURL: stub.openaiBaseUrl, apiKey: 'test-key-not-secret', customerId, question };
    try {
      const r = await recorder.run({ agent: 'support-agent', entry: agentEntries.support, input }, (ctx) =>
        supportAgent(input, ctx as never),
      );
      return r.traceId;
    } finally {
      await recorder.close();
    }
  };
  const hello = await run(TENANT, 'C-7', 'Just say hello.');
  const refund = await run(TENANT, 'C-42', REFUND_QUESTION);
  const other = await run(OTHER, 'C-99', 'Secret other-tenant question.');
  await store.close();
  return {
    dir,
    url,
    stub,
    refund,
    hello,
    other,
    async cleanup() {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
