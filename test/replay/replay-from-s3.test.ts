import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absoluteAgentEntry, supportAgent } from '../../fixtures/agents/index.js';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { replayTrace } from '../../src/replay/index.js';
import { archiveTraces, openS3Store, restoreTraces } from '../../src/store/s3/index.js';
import { verifyTrace } from '../../src/store/verify.js';
import { startS3rver, type S3Fixture } from '../store/archive-fixtures.js';
import { readAll, record, tempStore } from './helpers.js';

/**
 * The cold-tier round trip (docs/scale-out.md): a recorded trace is archived to S3 (and pruned from the hot store),
 * replayed straight from the archive with the replay written to a hot store, restored, and verified.
 */
const TENANT = 'acme';
let stub: LlmStub;
let s3: S3Fixture;

beforeAll(async () => {
  stub = await startLlmStub({ chunkDelayMs: 5 });
  s3 = await startS3rver('cold');
}, 60_000);
afterAll(async () => {
  await stub?.close();
  await s3?.stop();
});

describe('archive → replay from S3 → restore → verify', () => {
  it('replays a pruned trace straight from the archive and restores it intact', { timeout: 120_000 }, async () => {
    const hot = await tempStore();
    const scratch = await tempStore();
    try {
      const input = {
        customerId: 'C-7',
        question: 'call lookup_order({"orderId":"A-1002"})',
        baseURL: stub.openaiBaseUrl,
        apiKey: 'sk-test-archive',
      };
      const { traceId, error } = await record(
        hot.store,
        TENANT,
        [stub.openaiBaseUrl],
        'support',
        absoluteAgentEntry('support'),
        input,
        supportAgent as never,
      );
      expect(error).toBeUndefined();
      const original = await readAll(hot.store, TENANT, traceId);

      const url = s3.url('prod');
      const archived = await archiveTraces({
        from: hot.store,
        tenantId: TENANT,
        traceIds: [traceId],
        to: url,
        prune: true,
      });
      expect(archived.results[0]).toMatchObject({ outcome: 'archived' });
      expect(await hot.store.exists(TENANT, traceId)).toBe(false);

      // the model is gone too: the replay can only be answered by the archived recording
      const requestsBefore = stub.requests.length;
      const cold = await openS3Store(url);
      try {
        const result = await replayTrace({
          store: cold,
          replayStore: scratch.store,
          tenant: TENANT,
          traceId,
          fast: true,
        });
        expect(result.misses).toEqual([]);
        expect(['identical', 'equivalent']).toContain(result.verdict);
        expect(stub.requests.length).toBe(requestsBefore);
        const replayed = await readAll(scratch.store, TENANT, result.replayTraceId);
        expect(replayed[0]?.type === 'agent_started' && replayed[0].payload.replayOf?.traceId).toBe(traceId);
        // a read-only store cannot take the replay itself
        await expect(replayTrace({ store: cold, tenant: TENANT, traceId })).rejects.toMatchObject({
          code: 'STORE_READ_ONLY',
        });
      } finally {
        await cold.close();
      }

      const restored = await restoreTraces({ from: url, to: hot.store, tenantId: TENANT, traceIds: [traceId] });
      expect(restored.results[0]).toMatchObject({ outcome: 'restored' });
      expect((await verifyTrace(hot.store, TENANT, traceId)).ok).toBe(true);
      expect((await readAll(hot.store, TENANT, traceId)).map((e) => e.hash)).toEqual(original.map((e) => e.hash));
    } finally {
      await hot.cleanup();
      await scratch.cleanup();
    }
  });
});
