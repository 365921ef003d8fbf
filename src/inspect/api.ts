import type * as z from 'zod';
import { compareReplay } from '../replay/comparison.js';
import { diffTraces } from '../diff/diff-traces.js';
import { TraceNotFoundError } from '../errors.js';
import type { EventStore, TraceSummary } from '../store/types.js';
import { asCurl } from './curl.js';
import { ApiNotFoundError, ApiParamError } from './errors.js';
import { ReplayJobs } from './jobs.js';
import { TraceLister } from './list.js';
import {
  DiffQuerySchema,
  EventsQuerySchema,
  ListQuerySchema,
  ReplayRequestSchema,
  StepsQuerySchema,
  type DiffReport,
  type EventDetail,
  type EventsPage,
  type ReplayJob,
  type StepsPage,
  type TraceDetail,
  type TraceListPage,
} from './schemas.js';
import { readRange, stepsPage } from './steps.js';

export interface InspectApiOptions {
  store: EventStore;
  /** the tenants this API may show; every call names one of them (the first is the default) */
  tenants: readonly string[];
  /** where replays are written (default: `store`; required for a read-only store to replay) */
  replayStore?: EventStore;
  /** where relative agent entries resolve (default process.cwd()) */
  cwd?: string;
  replayTimeoutMs?: number;
}

/** Parses raw input (query-string text or a JSON body) with an API schema; the error names the field. */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  const what =
    issue?.code === 'unrecognized_keys'
      ? `unknown parameter ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue?.message;
  throw new ApiParamError(
    `Bad request${field ? ` at "${field}"` : ''}: ${what ?? 'invalid'}.`,
    'See docs/ui.md for the parameters each endpoint takes.',
    field,
  );
}

const PAIR_LOOK = 200;
const REQUEST_TYPES = new Set(['llm_request', 'tool_call', 'http_request']);

/**
 * The inspector's JSON API as plain async methods: the HTTP server (./server.ts) is one client, tests are another,
 * and a hosted inspector can mount the same methods. Every method is scoped to a tenant the API was created for.
 */
export class InspectApi {
  readonly jobs: ReplayJobs;
  private readonly lister: TraceLister;
  readonly tenants: readonly string[];

  constructor(private readonly options: InspectApiOptions) {
    if (options.tenants.length === 0) throw new ApiParamError('No tenant to serve.', 'Pass --tenant ID.', 'tenant');
    this.tenants = options.tenants;
    this.lister = new TraceLister(options.store);
    this.jobs = new ReplayJobs({
      store: options.store,
      ...(options.replayStore ? { replayStore: options.replayStore } : {}),
      cwd: options.cwd ?? process.cwd(),
      ...(options.replayTimeoutMs ? { timeoutMs: options.replayTimeoutMs } : {}),
    });
  }

  /** A tenant not served is reported like an unknown trace: the API does not confirm other tenants exist. */
  tenant(raw: unknown): string {
    if (raw === undefined || raw === '') return this.tenants[0]!;
    if (typeof raw === 'string' && this.tenants.includes(raw)) return raw;
    throw new ApiNotFoundError(`No tenant "${String(raw)}" on this server.`, `It serves: ${this.tenants.join(', ')}.`);
  }

  meta() {
    const { store } = this.options;
    return {
      tenants: [...this.tenants],
      store: { kind: store.kind, location: store.location, readOnly: store.readOnly },
      canReplay: !(this.options.replayStore ?? store).readOnly,
    };
  }

  private async summaryOf(tenant: string, traceId: string): Promise<{ summary: TraceSummary; store: EventStore }> {
    const s = await this.options.store.summary(tenant, traceId);
    if (s) return { summary: s, store: this.options.store };
    const r = this.options.replayStore;
    const t = r && r !== this.options.store ? await r.summary(tenant, traceId) : undefined;
    if (t && r) return { summary: t, store: r };
    throw new TraceNotFoundError(tenant, traceId);
  }

  async listTraces(tenant: string, raw: unknown): Promise<TraceListPage> {
    return this.lister.list(tenant, parseParams(ListQuerySchema, raw));
  }

  async trace(tenant: string, traceId: string): Promise<TraceDetail> {
    const { summary, store } = await this.summaryOf(tenant, traceId);
    const first = (await readRange(store, tenant, traceId, 0, 0))[0];
    const replays: TraceSummary[] = [];
    let cursor: string | undefined;
    // replays are newer than their original: the newest few store pages hold them
    for (let i = 0; i < 3 && replays.length < 50; i++) {
      const page = await store.list(tenant, { limit: 500, ...(cursor ? { cursor } : {}) });
      for (const t of page.traces) if (t.replayOf === traceId) replays.push(t);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return {
      summary,
      replays,
      entry: first?.type === 'agent_started' ? (first.payload.entry ?? null) : null,
      startedAtMs: summary.startedAt ? Date.parse(summary.startedAt) : first ? Date.parse(first.timestamp) : null,
    };
  }

  async steps(tenant: string, traceId: string, raw: unknown): Promise<StepsPage> {
    const q = parseParams(StepsQuerySchema, raw);
    const { summary, store } = await this.summaryOf(tenant, traceId);
    const t0 = summary.startedAt ? Date.parse(summary.startedAt) : 0;
    return stepsPage(store, tenant, traceId, q, summary.lastSeq, t0, summary.durationMs);
  }

  async events(tenant: string, traceId: string, raw: unknown): Promise<EventsPage> {
    const q = parseParams(EventsQuerySchema, raw);
    const { summary, store } = await this.summaryOf(tenant, traceId);
    const to = q.from + q.limit - 1;
    const events = await readRange(store, tenant, traceId, q.from, to);
    return { traceId, events, nextFrom: to < summary.lastSeq ? to + 1 : null };
  }

  async event(tenant: string, traceId: string, rawSeq: string): Promise<EventDetail> {
    if (!/^\d+$/.test(rawSeq)) throw new ApiParamError(`Bad event seq "${rawSeq}".`, 'Give a whole number.', 'seq');
    const seq = Number(rawSeq);
    const { summary, store } = await this.summaryOf(tenant, traceId);
    if (seq > summary.lastSeq)
      throw new ApiNotFoundError(`Trace "${traceId}" has no event ${seq}.`, `Its events are 0–${summary.lastSeq}.`);
    const around = await readRange(store, tenant, traceId, seq - PAIR_LOOK, Math.min(summary.lastSeq, seq + PAIR_LOOK));
    const event = around.find((e) => e.seq === seq)!;
    const pair = REQUEST_TYPES.has(event.type)
      ? around.find((e) => e.parentEventId === event.eventId && !REQUEST_TYPES.has(e.type))
      : event.parentEventId
        ? around.find((e) => e.eventId === event.parentEventId)
        : undefined;
    return { event, pair: pair ?? null, curl: asCurl(event), ndjson: `${JSON.stringify(event)}\n` };
  }

  async diff(tenant: string, raw: unknown): Promise<DiffReport> {
    const q = parseParams(DiffQuerySchema, raw);
    const a = await this.summaryOf(tenant, q.a);
    const b = await this.summaryOf(tenant, q.b);
    const replay = b.summary.replayOf === q.a;
    const aSource =
      q.untilA !== undefined
        ? a.store.read(tenant, q.a, { toSeq: q.untilA })
        : { store: a.store, tenantId: tenant, traceId: q.a };
    if (replay) {
      // a replay beside its recording: the one comparison `retrace replay` prints (src/replay/comparison.ts)
      const original = await readRange(a.store, tenant, q.a, 0, q.untilA ?? a.summary.lastSeq);
      const replayed = await readRange(b.store, tenant, q.b, 0, b.summary.lastSeq);
      return (await compareReplay(original, replayed, [], { fullTimelineMax: 5000 })).report;
    }
    return diffTraces(
      aSource,
      { store: b.store, tenantId: tenant, traceId: q.b },
      // the browser view virtualises the timeline; show it whole up to a size a page handles
      { labels: { a: 'A', b: 'B' }, fullTimelineMax: 5000 },
    );
  }

  async startReplay(tenant: string, raw: unknown): Promise<ReplayJob> {
    const request = parseParams(ReplayRequestSchema, raw);
    if (request.mode === 'override' && request.body === undefined && request.chunks === undefined)
      throw new ApiParamError('An override needs "body" (or "chunks" for a streamed response).', '', 'body');
    const { summary } = await this.summaryOf(tenant, request.traceId);
    return this.jobs.start(tenant, request, summary.eventCount);
  }

  replayJob(tenant: string, id: string): ReplayJob {
    const job = this.jobs.get(tenant, id);
    if (!job) throw new ApiNotFoundError(`No replay job "${id}".`, 'Jobs live as long as the `retrace ui` process.');
    return job;
  }
}
