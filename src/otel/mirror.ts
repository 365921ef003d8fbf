import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from '../store/types.js';
import type { OtlpEndpoint, OtlpProtocol } from './export.js';

/**
 * The live mirror: after a run is durable in the store, its spans are also sent to an OTLP endpoint — in the
 * background, one run at a time, never on the agent's request path and never able to fail or delay the store write.
 * A failed send is reported once per endpoint (a warning) and the run stays in the store as it is.
 */

export interface OtlpMirrorOptions extends OtlpEndpoint {
  includeContent?: boolean;
  onError?(err: unknown): void;
}

export interface OtlpMirror {
  /** queue the finished trace for sending */
  schedule(tenantId: string, traceId: string): void;
  /** wait for what is queued (bounded by `timeoutMs`) */
  drain(timeoutMs?: number): Promise<void>;
}

/** RETRACE_OTLP_ENDPOINT (+ RETRACE_OTLP_HEADERS "k=v,k2=v2", RETRACE_OTLP_PROTOCOL, RETRACE_OTLP_INCLUDE_CONTENT=1) */
export function otlpMirrorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OtlpMirrorOptions | undefined {
  const url = env.RETRACE_OTLP_ENDPOINT?.trim();
  if (!url) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of (env.RETRACE_OTLP_HEADERS ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) headers[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  const protocol: OtlpProtocol = env.RETRACE_OTLP_PROTOCOL === 'http/json' ? 'http/json' : 'http/protobuf';
  return { url, headers, protocol, includeContent: env.RETRACE_OTLP_INCLUDE_CONTENT === '1' };
}

export function createOtlpMirror(options: OtlpMirrorOptions, store: () => Promise<EventStore | undefined>): OtlpMirror {
  let chain: Promise<void> = Promise.resolve();
  let warned = false;
  const report = (err: unknown) => {
    if (options.onError) return options.onError(err);
    if (warned) return;
    warned = true;
    const message = err instanceof Error ? err.message : String(err);
    process.emitWarning(`retrace: OTLP mirror to ${options.url} failed (the runs are in the store): ${message}`, {
      code: 'RETRACE_OTLP_MIRROR_FAILED',
    });
  };
  return {
    schedule(tenantId, traceId) {
      chain = chain
        .then(async () => {
          const s = await store();
          if (!s) return;
          const events: StoredEvent[] = [];
          for await (const e of s.read(tenantId, traceId)) events.push(e);
          const { spansOf, sendSpans } = await import('./export.js');
          const spans = await spansOf([events], { includeContent: options.includeContent === true });
          await sendSpans(spans, options);
        })
        .catch(report);
    },
    async drain(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([chain, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      if (timer) clearTimeout(timer);
    },
  };
}
