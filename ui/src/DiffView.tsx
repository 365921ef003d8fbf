import { useEffect, useRef, useState } from 'preact/hooks';
import { displayPath } from '../../src/diff/classify.js';
import { totalsLines } from '../../src/diff/render/totals-lines.js';
import type { DiffReport } from '../../src/diff/report-schema.js';
import type { EventType } from '../../src/events/payloads.js';
import { wordDiff } from '../../src/inspect/words.js';
import { api } from './api.js';
import { pretty } from './format.js';
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
  if (d.textDiff) return <pre class="json text-diff">{d.textDiff}</pre>;
  if (d.patch.length === 0) return null;
  const type = (d.a?.type ?? d.b?.type ?? 'decision_made') as EventType;
  return (
    <ul class="patch">
      {d.patch.slice(0, 50).map((op, i) => (
        <li key={i}>
          <code title={op.path}>{displayPath(type, op.path)}</code> <span class="muted">{op.op}</span>{' '}
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

/** A trace id: a link into the inspector when served by it, plain text in the static report file. */
function TraceRef({ id, links }: { id: string | null; links: boolean }) {
  if (!id) return null;
  if (!links) return <code class="mono">{id}</code>;
  const href = traceHref(id);
  return (
    <a href={href} onClick={(e) => onLink(e, href)} class="mono">
      {id}
    </a>
  );
}

/**
 * The diff view: one renderer for the inspector's /diff page and for the static report file of
 * `retrace replay --report` / `retrace diff --format html` (ui/src/report.tsx renders this same component).
 */
export function DiffBody({ report, links = true }: { report: DiffReport; links?: boolean }) {
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
      <table class="totals" data-testid="totals">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">{report.a.label}</th>
            <th scope="col">{report.b.label}</th>
            <th scope="col">change</th>
          </tr>
        </thead>
        <tbody>
          {totalsLines(report.a.totals, report.b.totals).map((l) => (
            <tr key={l.name}>
              <th scope="row">{l.name}</th>
              <td class="num">{l.a}</td>
              <td class="num">{l.b}</td>
              <td class="num">{l.delta}</td>
            </tr>
          ))}
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
          {report.a.label} <TraceRef id={report.a.traceId} links={links} />
        </span>
        <span>
          {report.b.label} <TraceRef id={report.b.traceId} links={links} />
        </span>
      </div>
      <ol class="timeline" ref={rowsRef} data-testid="diff-timeline">
        {report.timeline.map((row, i) =>
          row.kind === 'gap' ? (
            <li key={i} class="gap">
              {row.count.toLocaleString('en-US')} unchanged events (#{row.a.from}–#{row.a.to} / #{row.b.from}–#
              {row.b.to})
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
      <p class="muted foot">
        Policy: {report.policy}. Alignment: {report.alignment}. Report format {report.kind} v{report.version}.
      </p>
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
