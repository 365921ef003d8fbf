import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import type { EventStore } from '../../src/store/types.js';

/** A fresh embedded store in its own temp dir. */
export function tempStore(): { store: SqliteEventStore; dir: string; path: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-rec-'));
  const path = join(dir, 'retrace.db');
  const store = new SqliteEventStore(path);
  return {
    store,
    dir,
    path,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function readTrace(store: EventStore, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) out.push(e);
  return out;
}

/** event types in order, without the nondeterminism notes */
export function typesOf(events: readonly StoredEvent[]): string[] {
  return events.filter((e) => e.type !== 'nondeterminism').map((e) => e.type);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
