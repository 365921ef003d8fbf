import { context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, tempStore } from '../cli/cli-harness.js';
import { startUi } from '../inspect/cli-ui.js';

/**
 * The inspector's server is an OTLP/HTTP receiver too: an agent instrumented with the OpenTelemetry SDK sends its
 * spans (the official protobuf exporter) to `retrace ui`'s /v1/traces and the run appears in the inspector's list,
 * in the tenant it named; behind a token, spans without it are refused and nothing is stored.
 */

const tmp = tempStore('ui-otlp.db');

beforeAll(async () => {
  await ensureBuilt();
  // `retrace ui` serves an existing store
  await (await openStore(tmp.url)).close();
}, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

interface TraceRow {
  traceId: string;
  agent: string;
  status: string;
}

/** One instrumented run: a workflow span with a chat span under it, as OpenLLMetry writes them. */
async function sendRun(url: string, agent: string, headers: Record<string, string> = {}): Promise<void> {
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url, headers }))],
  });
  const tracer = provider.getTracer('opentelemetry-instrumentation-openai');
  // no global context manager is registered (other tests share this process): the parent is passed explicitly
  const root = tracer.startSpan(`${agent}.workflow`, {
    attributes: { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': agent },
  });
  tracer
    .startSpan(
      'openai.chat',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.system': 'openai',
          'llm.request.type': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.prompt.0.role': 'user',
          'gen_ai.prompt.0.content': 'Is it raining in Bergen?',
          'gen_ai.completion.0.role': 'assistant',
          'gen_ai.completion.0.content': 'Yes.',
          'gen_ai.usage.prompt_tokens': 9,
          'gen_ai.usage.completion_tokens': 2,
        },
      },
      trace.setSpan(context.active(), root),
    )
    .end();
  root.end();
  await provider.shutdown();
}

async function listed(base: string, tenant: string, token?: string): Promise<TraceRow[]> {
  const res = await fetch(`${base}api/traces?tenant=${tenant}`, token ? { headers: { 'x-retrace-token': token } } : {});
  expect(res.status).toBe(200);
  return ((await res.json()) as { traces: TraceRow[] }).traces;
}

async function waitForAgent(base: string, tenant: string, agent: string, token?: string): Promise<TraceRow> {
  for (let i = 0; i < 200; i++) {
    const found = (await listed(base, tenant, token)).find((t) => t.agent === agent);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no trace of ${agent} appeared in tenant ${tenant}`);
}

describe('retrace ui hosts the OTLP receiver', () => {
  it('spans sent to /v1/traces by the official exporter appear in the trace list, with their LLM call', {
    timeout: 120_000,
  }, async () => {
    const ui = await startUi(['--store', tmp.url, '--tenant', 'otel-ui', 'ui', '--port', '0']);
    try {
      let endpoint: string | undefined;
      for (let i = 0; i < 100 && endpoint === undefined; i++) {
        endpoint = /OTLP\/HTTP traces: (\S+)/.exec(ui.output())?.[1];
        if (endpoint === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(endpoint).toBe(new URL('/v1/traces', ui.url).href);
      await sendRun(endpoint!, 'bergen-weather');
      const row = await waitForAgent(ui.url, 'otel-ui', 'bergen-weather');
      expect(row.status).toBe('completed');
      const steps = await fetch(`${ui.url}api/traces/${row.traceId}/events?tenant=otel-ui`);
      expect(steps.status).toBe(200);
      const body = JSON.stringify(await steps.json());
      expect(body).toContain('llm_request');
      expect(body).toContain('Is it raining in Bergen?');
    } finally {
      await ui.stop();
    }
  });

  it('behind a token: spans without it get 401 and store nothing; with it they land in the tenant named', {
    timeout: 120_000,
  }, async () => {
    const ui = await startUi([
      '--store',
      tmp.url,
      'ui',
      '--tenants',
      'team-a,team-b',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
    ]);
    try {
      const token = new URL(ui.url).searchParams.get('token');
      expect(token).toBeTruthy();
      const base = new URL('/', ui.url).href;
      const refused = await fetch(`${base}v1/traces?tenant=team-b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceSpans":[]}',
      });
      expect(refused.status).toBe(401);
      // the exporter reports the refusal; the run is not stored
      await expect(sendRun(`${base}v1/traces?tenant=team-b`, 'no-token-agent')).rejects.toThrow(/Unauthorized/);
      await sendRun(`${base}v1/traces?tenant=team-b`, 'tokened-agent', { authorization: `Bearer ${token}` });
      const row = await waitForAgent(base, 'team-b', 'tokened-agent', token!);
      expect(row.status).toBe('completed');
      const b = await listed(base, 'team-b', token!);
      expect(b.map((t) => t.agent)).not.toContain('no-token-agent');
      expect((await listed(base, 'team-a', token!)).map((t) => t.agent)).not.toContain('tokened-agent');
    } finally {
      await ui.stop();
    }
  });
});
