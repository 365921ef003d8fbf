import { useEffect, useRef, useState } from 'preact/hooks';
import type { DiffReport } from '../../src/diff/report-schema.js';
import { wordDiff } from '../../src/inspect/words.js';
import { api } from './api.js';
import { fmtCost, fmtDuration, pretty } from './format.js';
import { onLink, traceHref } from './router.js';

type Row = DiffReport['timeline'][number];
type Diff = DiffReport['differences'][number];

/** A changed string shown word by word: removed words struck in A's colour, added ones in B's. */
function Words({ a, b }: { a: string; b: string }) {
  return (
    <span class="words" data-testid="word-diff">
      {wordDiff(a, b).map((p, i) =>
        p.op === 'same' ? (
          <span key={i}>{p.text}</span>
        ) : p.op === 'removed' ? (
          <del key={i}>{p.text}</del>
        ) : (
          <ins key={i}>{p.text}</ins>
        ),
      )}
    </span>
  );
}

function Patch({ d }: { d: Diff }) {
  if (d.patch.length === 0) return null;
  return (
    <ul class="patch">
      {d.patch.slice(0, 50).map((op, i) => (
        <li key={i}>
          <code>{op.path}</code> <span class="muted">{op.op}</span>{' '}
          {typeof op.oldValue === 'string' && typeof op.value === 'string' ? (
            <Words a={op.oldValue} b={op.value} />
          ) : (
            <>
              {op.oldValue !== undefined && <del>{pretty(op.oldValue)}</del>}{' '}
              {op.value !== undefined && <ins>{pretty(op.value)}</ins>}
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function Side({ e }: { e: Extract<Row, { kind: 'event' }>['a'] }) {
  if (!e) return <div class="side empty">—</div>;
  return (
    <div class="side">
      <span class="seq">#{e.seq}</span> {e.label}
      <details>
        <summary>payload</summary>
        <pre class="json">{pretty(e.payload)}</pre>
      </details>
    </div>
  );
}

export function DiffBody({ report }: { report: DiffReport }) {
  const byId = new Map(report.differences.map((d) => [d.id, d]));
  const [current, setCurrent] = useState<number | null>(report.firstDivergence?.differenceId ?? null);
  const rowsRef = useRef<HTMLOListElement>(null);
  const ids = report.differences.map((d) => d.id);

  const go = (id: number | null) => {
    if (id === null) return;
    setCurrent(id);
    const el = rowsRef.current?.querySelector<HTMLElement>(`[data-diff-ids~="${id}"]`);
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  };
  const step = (dir: 1 | -1) => {
    const i = current === null ? -1 : ids.indexOf(current);
    const next = ids[Math.max(0, Math.min(ids.length - 1, i + dir))];
    go(next ?? null);
  };
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input,textarea,select')) return;
      if (e.key === 'n' || e.key === 'j') step(1);
      if (e.key === 'p' || e.key === 'k') step(-1);
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  });
  useEffect(() => {
    if (report.firstDivergence) go(report.firstDivergence.differenceId);
  }, [report]);

  const first = report.firstDivergence;
  return (
    <div class="diff">
      <p class={`verdict ${report.verdict}`} data-testid="verdict">
        Runs {report.verdict}
      </p>
      <p data-testid="summary">{report.summary}</p>
      <table class="totals">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">{report.a.label}</th>
            <th scope="col">{report.b.label}</th>
          </tr>
        </thead>
        <tbody>
          {(['events', 'llmCalls', 'toolCalls', 'inputTokens', 'outputTokens'] as const).map((k) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td class="num">{report.a.totals[k]}</td>
              <td class="num">{report.b.totals[k]}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">cost</th>
            <td class="num">{fmtCost(report.a.totals.costUsd)}</td>
            <td class="num">{fmtCost(report.b.totals.costUsd)}</td>
          </tr>
          <tr>
            <th scope="row">duration</th>
            <td class="num">{fmtDuration(report.a.totals.durationMs)}</td>
            <td class="num">{fmtDuration(report.b.totals.durationMs)}</td>
          </tr>
        </tbody>
      </table>
      {first && (
        <section class="first" data-testid="first-divergence" aria-label="First divergence">
          <h2>First divergence</h2>
          <p>{first.sentence}</p>
          <button type="button" onClick={() => go(first.differenceId)}>
            Show difference {first.differenceId}
          </button>
        </section>
      )}
      {Object.keys(report.classCounts).length > 0 && (
        <ul class="classes" aria-label="Differences by class">
          {Object.entries(report.classCounts).map(([c, n]) => (
            <li key={c} class={`cls ${c}`}>
              {c} × {n}
            </li>
          ))}
        </ul>
      )}
      {ids.length > 0 && (
        <div class="actions" role="toolbar" aria-label="Differences">
          <button type="button" onClick={() => step(-1)} data-testid="prev-diff" aria-keyshortcuts="p">
            ← Previous difference
          </button>
          <span aria-live="polite">
            {current !== null ? `difference ${ids.indexOf(current) + 1} of ${ids.length}` : `${ids.length} differences`}
          </span>
          <button type="button" onClick={() => step(1)} data-testid="next-diff" aria-keyshortcuts="n">
            Next difference →
          </button>
        </div>
      )}
      <div class="cols" aria-hidden="true">
        <span>
          {report.a.label}{' '}
          {report.a.traceId && (
            <a href={traceHref(report.a.traceId)} onClick={(e) => onLink(e, traceHref(report.a.traceId!))} class="mono">
              {report.a.traceId}
            </a>
          )}
        </span>
        <span>
          {report.b.label}{' '}
          {report.b.traceId && (
            <a href={traceHref(report.b.traceId)} onClick={(e) => onLink(e, traceHref(report.b.traceId!))} class="mono">
              {report.b.traceId}
            </a>
          )}
        </span>
      </div>
      <ol class="timeline" ref={rowsRef} data-testid="diff-timeline">
        {report.timeline.map((row, i) =>
          row.kind === 'gap' ? (
            <li key={i} class="gap">
              {row.count} unchanged events
            </li>
          ) : (
            <li
              key={i}
              tabIndex={-1}
              class={`trow ${row.status} ${row.differenceIds.includes(current ?? -1) ? 'current' : ''} ${first && row.differenceIds.includes(first.differenceId) ? 'first-div' : ''}`}
              data-testid="diff-row"
              data-status={row.status}
              data-diff-ids={row.differenceIds.join(' ')}
            >
              <div class="pair">
                <Side e={row.a} />
                <Side e={row.b} />
              </div>
              {row.differenceIds.map((id) => {
                const d = byId.get(id);
                if (!d) return null;
                return (
                  <div key={id} class={`difference cls ${d.class}`} data-testid="difference">
                    <span class="badge">{d.class}</span> {d.sentence}
                    <Patch d={d} />
                  </div>
                );
              })}
            </li>
          ),
        )}
      </ol>
    </div>
  );
}

export function DiffView({ a, b, untilA }: { a: string; b: string; untilA: number | undefined }) {
  const [report, setReport] = useState<DiffReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setReport(null);
    api
      .diff(a, b, untilA)
      .then(setReport)
      .catch((e: Error) => setError(e.message));
  }, [a, b, untilA]);
  return (
    <section aria-labelledby="diff-h">
      <h1 id="diff-h">Diff{untilA !== undefined ? ` (recording up to #${untilA})` : ''}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {report ? <DiffBody report={report} /> : !error && <p class="muted">Comparing…</p>}
    </section>
  );
}
