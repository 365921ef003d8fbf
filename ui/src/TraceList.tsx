import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { TraceRow, TraceSummary } from '../../src/inspect/schemas.js';
import { api, type ListFilters } from './api.js';
import { fmtCost, fmtDuration, fmtTime, fmtTokens } from './format.js';
import { navigate, onLink, traceHref } from './router.js';

const POLL_MS = 3000;

function filtersFrom(params: URLSearchParams): ListFilters {
  const f: ListFilters = {};
  for (const k of ['agent', 'status', 'since', 'model', 'q'] as const) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  if (params.get('divergent') === 'true') f.divergent = true;
  return f;
}

function Row({ t, replay }: { t: TraceSummary; replay: boolean }) {
  const href = traceHref(t.traceId);
  return (
    <tr class={replay ? 'replay-row' : ''} data-testid="trace-row" data-trace-id={t.traceId}>
      <td>
        <a href={href} onClick={(e) => onLink(e, href)} class="mono">
          {replay ? '↳ ' : ''}
          {t.traceId}
        </a>
      </td>
      <td>{t.agent ?? '–'}</td>
      <td>
        <span class={`status ${t.status}`}>{t.status}</span>
      </td>
      <td class="num">{t.eventCount.toLocaleString()}</td>
      <td class="num">{fmtTokens(t.inputTokens, t.outputTokens)}</td>
      <td class="num">{fmtCost(t.costUsd)}</td>
      <td>{fmtTime(t.startedAt)}</td>
      <td class="num">{fmtDuration(t.durationMs)}</td>
      <td class="mono">
        {t.replayOf ? (
          <a href={traceHref(t.replayOf)} onClick={(e) => onLink(e, traceHref(t.replayOf!))}>
            {t.replayOf}
          </a>
        ) : (
          ''
        )}
      </td>
    </tr>
  );
}

export function TraceList({ params }: { params: URLSearchParams }) {
  const filters = filtersFrom(params);
  const key = JSON.stringify(filters);
  const [rows, setRows] = useState<TraceRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [fresh, setFresh] = useState(0);
  const pagesLoaded = useRef(1);

  useEffect(() => {
    let stop = false;
    setLoading(true);
    pagesLoaded.current = 1;
    api
      .traces(filters)
      .then((p) => {
        if (stop) return;
        setRows(p.traces);
        setCursor(p.nextCursor);
        setError(null);
      })
      .catch((e: Error) => !stop && setError(e.message))
      .finally(() => !stop && setLoading(false));
    // live updates: re-read the first page; new traces appear on top, running ones update in place
    const timer = setInterval(() => {
      api
        .traces(filters)
        .then((p) => {
          if (stop) return;
          setRows((old) => {
            const fresh = new Map(p.traces.map((t) => [t.traceId, t]));
            const known = new Set(old.map((t) => t.traceId));
            const added = p.traces.filter((t) => !known.has(t.traceId));
            if (added.length) setFresh((n) => n + added.length);
            return [...added, ...old.map((t) => fresh.get(t.traceId) ?? t)];
          });
        })
        .catch(() => undefined);
    }, POLL_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [key]);

  const more = useCallback(() => {
    if (!cursor) return;
    setLoading(true);
    api
      .traces(filters, cursor)
      .then((p) => {
        pagesLoaded.current += 1;
        setRows((old) => [...old, ...p.traces]);
        setCursor(p.nextCursor);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setLoading(false));
  }, [cursor, key]);

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const u = new URLSearchParams();
    for (const [k, v] of form) if (typeof v === 'string' && v.trim()) u.set(k, v.trim());
    navigate(`/${u.toString() ? `?${u}` : ''}`);
  };

  return (
    <section aria-labelledby="traces-h">
      <h1 id="traces-h">Traces</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter traces" data-testid="filters">
        <label>
          Search <input name="q" type="search" defaultValue={filters.q ?? ''} placeholder="prompts, outputs, tools" />
        </label>
        <label>
          Agent <input name="agent" defaultValue={filters.agent ?? ''} />
        </label>
        <label>
          Status
          <select name="status" defaultValue={filters.status ?? ''}>
            <option value="">any</option>
            <option value="running">running</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
            <option value="incomplete">incomplete</option>
          </select>
        </label>
        <label>
          Since
          <select name="since" defaultValue={filters.since ?? ''}>
            <option value="">any time</option>
            <option value="60m">1 hour</option>
            <option value="24h">24 hours</option>
            <option value="7d">7 days</option>
            <option value="30d">30 days</option>
          </select>
        </label>
        <label>
          Model <input name="model" defaultValue={filters.model ?? ''} placeholder="gpt-4o-mini" />
        </label>
        <label class="check">
          <input type="checkbox" name="divergent" value="true" defaultChecked={filters.divergent === true} /> diverged
          replays
        </label>
        <button type="submit">Apply</button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {fresh > 0 && (
        <p class="muted" aria-live="polite">
          {fresh} new trace{fresh > 1 ? 's' : ''} arrived
        </p>
      )}
      <table class="traces" data-testid="trace-table">
        <thead>
          <tr>
            <th scope="col">Trace</th>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Events</th>
            <th scope="col">Tokens in/out</th>
            <th scope="col">Cost</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Replay of</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => [
            <Row key={t.traceId} t={t} replay={false} />,
            ...t.replays.map((r) => <Row key={r.traceId} t={r} replay />),
          ])}
        </tbody>
      </table>
      {!loading && rows.length === 0 && !error && <p class="muted">No traces match.</p>}
      {cursor && (
        <button type="button" onClick={more} disabled={loading} data-testid="load-more">
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
      {loading && !cursor && <p class="muted">Loading…</p>}
    </section>
  );
}
