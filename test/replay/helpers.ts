import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecorder } from '../../src/recorder/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import type { ProviderBaseUrl } from '../../src/hashing/index.js';

export async function tempStore(): Promise<{ store: EventStore; dir: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-replay-test-'));
  const store = await openStore(`sqlite:${join(dir, 'retrace.db')}`);
  return {
    store,
    dir,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Records one agent run through the real recorder (the real SDKs talk to the LLM stub). */
export async function record<I>(
  store: EventStore,
  tenant: string,
  providers: Array<string | ProviderBaseUrl>,
  agent: string,
  entry: string,
  input: I,
  fn: (input: I, ctx: never) => Promise<unknown>,
): Promise<{ traceId: string; error?: unknown }> {
  const recorder = createRecorder({ store, tenant, providers });
  let traceId: string | undefined;
  try {
    const r = await recorder.run({ agent, entry, input }, (ctx) => {
      traceId = ctx.traceId;
      return fn(input, ctx as never);
    });
    return { traceId: r.traceId };
  } catch (error) {
    return { traceId: traceId!, error };
  } finally {
    await recorder.close();
  }
}

export async function readAll(store: EventStore, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) out.push(e);
  return out;
}

export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}

/** Event types in order, without the nondeterminism batches (their grouping depends on flush timing). */
export function shape(events: readonly StoredEvent[]): string[] {
  return events.filter((e) => e.type !== 'nondeterminism').map((e) => e.type);
}
