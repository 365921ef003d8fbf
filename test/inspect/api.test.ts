import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffReport, ReplayJob, StepsPage, TraceDetail, TraceListPage } from '../../src/inspect/index.js';
import { InspectorServer, startInspector, UiBindError } from '../../src/inspect/index.js';
import type { EventDetail, EventsPage } from '../../src/inspect/schemas.js';
import { openStore, type EventStore } from '../../src/store/index.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { OTHER, recordStore, TENANT, type RecordedStore } from './fixture.js';

/** Every endpoint of the inspector API over HTTP, in-process, against real recorded runs. */
let rec: RecordedStore;
let store: EventStore;
let server: InspectorServer;
let base: string;
const SLOW = 240_000;

async function get<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}
type Err = { error: { code: string; message: string; hint: string; field?: string } };

async function waitJob(id: string): Promise<ReplayJob> {
  for (;;) {
    const { body } = await get<ReplayJob>(`/api/replays/${id}`);
    if (body.state !== 'running') return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  rec = await recordStore();
  store = await openStore(rec.url);
  // 120 synthetic traces of another agent, for paging; one per second of start time, newest last
  for (let i = 0; i < 120; i++) {
    const b = new TraceBuilder('paging-agent', { startMs: Date.parse('2026-01-01T00:00:00Z') + i * 1000 });
    b.llm(i % 2 ? 'gpt-4o' : 'claude-x', `answer ${i}`).complete();
    await store.append(TENANT, `tr-page-${String(i).padStart(3, '0')}`, b.events);
  }
  server = await startInspector({ store, tenants: [TENANT], uiDir: '/nonexistent-ui-dir' });
  base = server.url.replace(/\/$/, '');
}, SLOW);

afterAll(async () => {
  await server?.close();
  await store?.close();
  await rec?.cleanup();
});

describe('GET /api/meta and errors', () => {
  it('names the store and the tenants served', async () => {
    const { status, body } = await get<{ tenants: string[]; store: { kind: string }; canReplay: boolean }>('/api/meta');
    expect(status).toBe(200);
    expect(body).toMatchObject({ tenants: [TENANT], store: { kind: 'sqlite' }, canReplay: true });
  });

  it('unknown routes, unknown tenants, bad Host headers and an unbuilt UI are clear errors', async () => {
    const nf = await get<Err>('/api/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('API_NOT_FOUND');
    expect((await get<Err>(`/api/traces?tenant=${OTHER}`)).status).toBe(404);
    // fetch may not set Host; node:http can, the way a DNS-rebinding page's request arrives
    const rebinding = await new Promise<number>((resolve, reject) => {
      const u = new URL(base);
      request({ host: u.hostname, port: u.port, path: '/api/meta', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(rebinding).toBe(400);
    const page = await get<Err>('/');
    expect(page.status).toBe(503);
    expect(page.body.error.code).toBe('UI_NOT_BUILT');
  });

  it('a non-loopback server without a token cannot be made; with one, requests need it', async () => {
    expect(() => new InspectorServer({ store, tenants: [TENANT], host: '0.0.0.0', token: false })).toThrow(UiBindError);
    const s = await startInspector({ store, tenants: [TENANT], host: '0.0.0.0', token: 'fixed-token-for-test' });
    try {
      const port = new URL(s.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/api/meta`)).status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/api/meta`, {
        headers: { 'x-retrace-token': 'fixed-token-for-test' },
      });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('extra routes mount next to the API (room for an OTLP receiver)', async () => {
    server.mount('POST', '/v1/traces', async ({ body, res }) => {
      res.statusCode = 200;
      return { received: (await body()).length };
    });
    const r = await get<{ received: number }>('/v1/traces', { method: 'POST', body: 'abc' });
    expect(r).toEqual({ status: 200, body: { received: 3 } });
  });
});

describe('GET /api/traces', () => {
  it('newest first, keyset paged without overlap', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/api/traces?agent=paging-agent&limit=50${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body }: { status: number; body: TraceListPage } = await get<TraceListPage>(q);
      expect(status).toBe(200);
      seen.push(...body.traces.map((t) => t.traceId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.length).toBe(120);
    expect(new Set(seen).size).toBe(120);
    expect(seen[0]).toBe('tr-page-119');
    expect(seen.at(-1)).toBe('tr-page-000');
  });

  it('filters: status, since, model, text, and 400 for bad values', async () => {
    const all = (await get<TraceListPage>('/api/traces?agent=support-agent')).body;
    expect(all.traces.map((t) => t.traceId).sort()).toEqual([rec.hello, rec.refund].sort());
    expect((await get<TraceListPage>('/api/traces?status=failed')).body.traces).toEqual([]);
    const since = (await get<TraceListPage>('/api/traces?since=1h&limit=200')).body.traces.map((t) => t.traceId);
    expect(since).toContain(rec.refund);
    expect(since).not.toContain('tr-page-000');
    const model = await get<TraceListPage>('/api/traces?model=claude-x&limit=100');
    expect(model.body.traces.length).toBe(60);
    const text = (await get<TraceListPage>('/api/traces?q=ARRIVED%20BROKEN')).body;
    expect(text.traces.map((t) => t.traceId)).toEqual([rec.refund]);
    // a scan that fills its page returns a cursor that continues after the last trace looked at
    const p1 = (await get<TraceListPage>('/api/traces?model=gpt-4o&limit=20')).body;
    const p2 = (await get<TraceListPage>(`/api/traces?model=gpt-4o&limit=20&cursor=${p1.nextCursor}`)).body;
    expect(p1.traces.length + p2.traces.length).toBe(40);
    expect(new Set([...p1.traces, ...p2.traces].map((t) => t.traceId)).size).toBe(40);

    for (const bad of ['limit=0', 'limit=abc', 'status=done', 'since=yesterday', 'divergent=maybe', 'colour=red']) {
      const r = await get<Err>(`/api/traces?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe('API_BAD_PARAMETER');
      expect(r.body.error.message).toMatch(/Bad request/);
    }
    expect((await get<Err>('/api/traces?cursor=garbage')).status).toBe(400);
  });
});

describe('trace detail, steps, events', () => {
  it('GET /api/traces/:id: summary and entry; another tenant is 404; a bad id is 400', async () => {
    const { status, body } = await get<TraceDetail>(`/api/traces/${rec.refund}`);
    expect(status).toBe(200);
    expect(body.summary).toMatchObject({ traceId: rec.refund, agent: 'support-agent', status: 'completed' });
    expect(body.entry).toBe('fixtures/agents/support-agent.ts#supportAgent');
    expect((await get<Err>(`/api/traces/${rec.other}`)).status).toBe(404);
    expect((await get<Err>('/api/traces/..%2F..%2Fetc')).status).toBe(400);
  });

  it('GET /api/traces/:id/steps: requests paired with responses, nondeterminism folded, paged', async () => {
    const { body } = await get<StepsPage>(`/api/traces/${rec.refund}/steps`);
    expect(body.steps.map((s) => s.kind)).toEqual(['run', 'llm', 'tool', 'llm', 'tool', 'llm', 'end']);
    const tool = body.steps.find((s) => s.name === 'refund_order')!;
    expect(tool.responseSeq).toBe(tool.seq + 1);
    expect(tool.preview).toContain('arrived broken');
    const llm = body.steps[1]!;
    expect(llm.inputTokens).toBeGreaterThan(0);
    expect(llm.durationMs).toBeGreaterThan(0);
    const withNd = (await get<StepsPage>(`/api/traces/${rec.refund}/steps?nondeterminism=true`)).body;
    expect(withNd.steps.some((s) => s.kind === 'nondeterminism')).toBe(true);
    // pages of 5 events cover the same steps as one page
    const paged: number[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const p: StepsPage = (await get<StepsPage>(`/api/traces/${rec.refund}/steps?from=${from}&limit=5`)).body;
      paged.push(...p.steps.map((s) => s.seq));
      from = p.nextFrom;
    }
    expect(paged).toEqual(body.steps.map((s) => s.seq));
    expect((await get<Err>(`/api/traces/${rec.refund}/steps?limit=5000`)).status).toBe(400);
  });

  it('GET /api/traces/:id/events and /events/:seq: paged events, the pair, curl and NDJSON', async () => {
    const page = (await get<EventsPage>(`/api/traces/${rec.refund}/events?from=0&limit=10`)).body;
    expect(page.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(page.nextFrom).toBe(10);
    const req = page.events.find((e) => e.type === 'llm_request')!;
    const d = (await get<EventDetail>(`/api/traces/${rec.refund}/events/${req.seq}`)).body;
    expect(d.pair?.type).toBe('llm_response');
    expect(d.curl).toMatch(/^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions'/);
    // the redacted key is read from the environment, never printed
    expect(d.curl).toContain('"$OPENAI_API_KEY"');
    expect(d.curl).not.toContain('test-key-not-secret');
    expect(JSON.parse(d.ndjson)).toMatchObject({ seq: req.seq, type: 'llm_request' });
    expect((await get<Err>(`/api/traces/${rec.refund}/events/999`)).status).toBe(404);
    expect((await get<Err>(`/api/traces/${rec.refund}/events/x1`)).status).toBe(400);
  });
});

describe('replays and diffs', () => {
  it('POST /api/replays: bad bodies are 400, unknown traces 404, unknown jobs 404', async () => {
    const post = (body: unknown) => get<Err>('/api/replays', { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ mode: 'sideways', traceId: rec.refund })).status).toBe(400);
    expect((await post({ mode: 'until', traceId: rec.refund, until: -1 })).status).toBe(400);
    expect((await post({ mode: 'override', traceId: rec.refund, seq: 4 })).status).toBe(400);
    expect((await post({ mode: 'all', traceId: rec.other })).status).toBe(404);
    const notJson = await get<Err>('/api/replays', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await get<Err>('/api/replays/job_nope')).status).toBe(404);
  });

  it('replay all, fork with an override, the diff of each, and the divergent filter', { timeout: SLOW }, async () => {
    const all = await get<ReplayJob>('/api/replays', {
      method: 'POST',
      body: JSON.stringify({ mode: 'all', traceId: rec.hello }),
    });
    expect(all.status).toBe(202);
    const same = await waitJob(all.body.id);
    expect(same).toMatchObject({ state: 'done', outcome: 'completed' });
    expect(['identical', 'equivalent']).toContain(same.verdict);
    expect(same.progress.events).toBeGreaterThan(0);

    const events = (await get<EventsPage>(`/api/traces/${rec.hello}/events`)).body.events;
    const response = events.find((e) => e.type === 'llm_response')!;
    const body = structuredClone(response.payload.body) as { choices: Array<{ message: { content: string } }> };
    body.choices[0]!.message.content = 'Goodbye instead.';
    const fork = await get<ReplayJob>('/api/replays', {
      method: 'POST',
      body: JSON.stringify({ mode: 'override', traceId: rec.hello, seq: response.seq, body }),
    });
    const forked = await waitJob(fork.body.id);
    expect(forked).toMatchObject({ state: 'done', verdict: 'diverged' });

    const diff = await get<DiffReport>(`/api/diff?a=${forked.diff!.a}&b=${forked.diff!.b}`);
    expect(diff.status).toBe(200);
    expect(diff.body.verdict).toBe('diverged');
    expect(diff.body.a.label).toBe('recording'); // the labels of the one replay comparison (src/replay/comparison.ts)
    expect(diff.body.firstDivergence?.a?.seq).toBe(response.seq);
    const unchanged = await get<DiffReport>(`/api/diff?a=${same.diff!.a}&b=${same.diff!.b}`);
    expect(unchanged.body.verdict).not.toBe('diverged');

    const divergent = (await get<TraceListPage>('/api/traces?divergent=true')).body.traces;
    expect(divergent.map((t) => t.traceId)).toEqual([forked.replayTraceId]);
    // both replays are grouped under their original
    const list = (await get<TraceListPage>('/api/traces?agent=support-agent')).body.traces;
    const hello = list.find((t) => t.traceId === rec.hello)!;
    expect(hello.replays.map((r) => r.traceId).sort()).toEqual([same.replayTraceId, forked.replayTraceId].sort());
    const detail = (await get<TraceDetail>(`/api/traces/${rec.hello}`)).body;
    expect(detail.replays.length).toBe(2);

    expect((await get<Err>('/api/diff?a=x')).status).toBe(400);
    expect((await get<Err>(`/api/diff?a=${rec.hello}&b=${rec.other}`)).status).toBe(404);
  });
});
