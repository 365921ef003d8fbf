import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { StoredEvent } from '../../src/events/envelope.js';
import type { ReplayJob, ReplayRequest, StepRow, TraceDetail } from '../../src/inspect/schemas.js';
import { api, type EventDetail } from './api.js';
import { LlmRequestView, LlmResponseView } from './Chat.js';
import { fmtCost, fmtDuration, fmtTime, fmtTokens, pretty } from './format.js';
import { diffHref, navigate, onLink, traceHref } from './router.js';
import { VirtualList } from './VirtualList.js';

const ROW = 30;
const KIND_LABEL: Record<string, string> = {
  run: 'run',
  llm: 'LLM',
  tool: 'tool',
  http: 'HTTP',
  decision: 'decision',
  memory: 'memory',
  nondeterminism: 'nondet',
  end: 'end',
};

function StepLine({ s, total, selected }: { s: StepRow; total: number; selected: boolean }) {
  const left = total > 0 ? Math.min(100, (s.startMs / total) * 100) : 0;
  const width = total > 0 && s.durationMs ? Math.max(0.4, Math.min(100 - left, (s.durationMs / total) * 100)) : 0.4;
  return (
    <div
      id={`step-${s.seq}`}
      role="option"
      tabIndex={-1}
      aria-selected={selected}
      class={`step ${s.kind} ${s.status} ${selected ? 'selected' : ''}`}
      data-testid="step"
      data-seq={s.seq}
    >
      <span class="seq">{s.seq}</span>
      <span class="tree" style={{ paddingLeft: `${s.depth * 14}px` }}>
        <span class={`badge ${s.kind}`}>{KIND_LABEL[s.kind]}</span> <span class="name">{s.name}</span>{' '}
        <span class="preview muted">{s.preview}</span>
      </span>
      <span class="dur num">{s.durationMs !== null ? fmtDuration(s.durationMs) : ''}</span>
      <span class="wf" aria-hidden="true">
        <span class="bar" style={{ left: `${left}%`, width: `${width}%` }} />
      </span>
    </div>
  );
}

async function copy(text: string, what: string, setNote: (s: string) => void) {
  try {
    await navigator.clipboard.writeText(text);
    setNote(`${what} copied`);
  } catch {
    setNote(`${what}: the clipboard is not available; select the text below`);
  }
}

function EventBody({ e }: { e: StoredEvent }) {
  switch (e.type) {
    case 'llm_request':
      return <LlmRequestView body={e.payload.body} />;
    case 'llm_response':
      return <LlmResponseView event={e} />;
    case 'tool_call':
      return (
        <div data-testid="tool-call">
          <span class="badge tool">tool call</span> <b class="mono">{e.payload.tool}</b>
          <pre class="json">{pretty(e.payload.args)}</pre>
        </div>
      );
    case 'tool_response':
      return (
        <div>
          <span class="badge tool">result</span> <span class="muted">{Math.round(e.payload.latencyMs)} ms</span>
          {e.payload.error ? (
            <p class="error">
              {e.payload.error.name}: {e.payload.error.message}
            </p>
          ) : (
            <pre class="json">{pretty(e.payload.result)}</pre>
          )}
        </div>
      );
    case 'agent_completed':
      return (
        <div data-testid="final-output">
          <h4>Output</h4>
          <pre class="json">{pretty(e.payload.output)}</pre>
          <h4>Totals</h4>
          <pre class="json">{pretty(e.payload.totals)}</pre>
        </div>
      );
    case 'agent_started':
      return (
        <div>
          <h4>Input</h4>
          <pre class="json">{pretty(e.payload.input)}</pre>
          <p class="muted">entry {e.payload.entry ?? '(zero-code)'}</p>
        </div>
      );
    default:
      return <pre class="json">{pretty(e.payload)}</pre>;
  }
}

/** The edit a "Replay from here" starts from: the recorded response body, or its stream text. */
function recordedResponse(d: EventDetail): { seq: number; text: string; streamed: boolean } | null {
  const res = d.event.type === 'llm_response' ? d.event : d.pair?.type === 'llm_response' ? d.pair : null;
  if (!res || res.type !== 'llm_response') return null;
  if (res.payload.chunks && res.payload.body === undefined)
    return { seq: res.seq, text: pretty(res.payload.chunks.map((c) => c.data)), streamed: true };
  return { seq: res.seq, text: pretty(res.payload.body), streamed: false };
}

function Detail(props: {
  detail: EventDetail;
  traceId: string;
  canReplay: boolean;
  onReplay: (r: ReplayRequest) => void;
}) {
  const { detail } = props;
  const e = detail.event;
  const [raw, setRaw] = useState(false);
  const [note, setNote] = useState('');
  const [editing, setEditing] = useState(false);
  const edit = recordedResponse(detail);
  const [text, setText] = useState(edit?.text ?? '');
  const [onMiss, setOnMiss] = useState<'error' | 'nearest' | 'live'>('error');
  const [editError, setEditError] = useState('');
  useEffect(() => {
    setText(edit?.text ?? '');
    setEditing(false);
    setEditError('');
  }, [e.eventId]);

  const submit = () => {
    if (!edit) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      setEditError(`Not JSON: ${(err as Error).message}`);
      return;
    }
    if (edit.streamed) {
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) {
        setEditError('A streamed response is a JSON array of SSE text chunks.');
        return;
      }
      props.onReplay({ mode: 'override', traceId: props.traceId, seq: edit.seq, chunks: value as string[], onMiss });
    } else props.onReplay({ mode: 'override', traceId: props.traceId, seq: edit.seq, body: value, onMiss });
  };

  const shown = [e, ...(detail.pair && detail.pair.seq > e.seq ? [detail.pair] : [])];
  return (
    <section class="detail" aria-label={`Event ${e.seq}`} data-testid="detail">
      <header>
        <h2>
          #{e.seq} {e.type}
        </h2>
        <div class="muted">{fmtTime(e.timestamp)}</div>
        <div class="actions" role="toolbar" aria-label="Event actions">
          <button type="button" aria-pressed={raw} onClick={() => setRaw(!raw)}>
            {raw ? 'Rendered' : 'Raw JSON'}
          </button>
          {detail.curl && (
            <button type="button" onClick={() => copy(detail.curl!, 'curl command', setNote)}>
              Copy as curl
            </button>
          )}
          <button type="button" onClick={() => copy(detail.ndjson, 'NDJSON line', setNote)}>
            Copy as NDJSON
          </button>
          <a href={traceHref(props.traceId, e.seq)} onClick={(ev) => onLink(ev, traceHref(props.traceId, e.seq))}>
            Link to this event
          </a>
        </div>
        {props.canReplay && (
          <div class="actions" role="toolbar" aria-label="Debugger">
            <button
              type="button"
              data-testid="replay-to-here"
              onClick={() =>
                props.onReplay({
                  mode: 'until',
                  traceId: props.traceId,
                  until: detail.pair && detail.pair.seq > e.seq ? detail.pair.seq : e.seq,
                })
              }
            >
              Replay to here
            </button>
            {edit && (
              <button type="button" data-testid="replay-with-edit" onClick={() => setEditing(!editing)}>
                Replay from here with an edit…
              </button>
            )}
          </div>
        )}
        {note && (
          <p class="muted" role="status">
            {note}
          </p>
        )}
      </header>
      {editing && edit && (
        <div class="editor" data-testid="override-editor">
          <label for="override-text">
            Recorded {edit.streamed ? 'stream chunks' : 'response body'} of event #{edit.seq} — edit it, then replay
          </label>
          <textarea
            id="override-text"
            spellcheck={false}
            value={text}
            onInput={(ev) => setText((ev.currentTarget as HTMLTextAreaElement).value)}
            rows={16}
          />
          <label>
            Requests after the edit that the recording cannot answer:{' '}
            <select
              value={onMiss}
              onChange={(ev) => setOnMiss((ev.currentTarget as HTMLSelectElement).value as typeof onMiss)}
            >
              <option value="error">stop there (no live calls)</option>
              <option value="nearest">answer with the nearest recorded response</option>
              <option value="live">go live (real LLM calls)</option>
            </select>
          </label>
          {editError && (
            <p role="alert" class="error">
              {editError}
            </p>
          )}
          <button type="button" data-testid="run-override" onClick={submit}>
            Save as override and replay
          </button>
        </div>
      )}
      {raw ? (
        <>
          <pre class="json" data-testid="raw-json">
            {pretty(e)}
          </pre>
          {detail.curl && <pre class="json">{detail.curl}</pre>}
        </>
      ) : (
        shown.map((x) => (
          <div key={x.eventId} class="event-body">
            {x !== e && (
              <h3>
                #{x.seq} {x.type}
              </h3>
            )}
            <EventBody e={x} />
          </div>
        ))
      )}
    </section>
  );
}

function JobPanel({ job }: { job: ReplayJob }) {
  const pct = job.progress.of > 0 ? Math.min(100, Math.round((job.progress.events / job.progress.of) * 100)) : 0;
  return (
    <div class="job" role="status" aria-live="polite" data-testid="replay-job">
      <b>Replay ({job.request.mode})</b> — {job.state === 'running' ? job.progress.phase : job.state}
      <progress max={100} value={job.state === 'running' ? pct : 100} aria-label="Replay progress" />
      <span class="muted">
        {job.progress.events} events written{job.replayTraceId ? ` to ${job.replayTraceId}` : ''}
      </span>
      {job.error && (
        <p class="error" role="alert">
          {job.error.message} {job.error.hint}
        </p>
      )}
    </div>
  );
}

export function TraceView({ id, seq, canReplay }: { id: string; seq: number | null; canReplay: boolean }) {
  const [trace, setTrace] = useState<TraceDetail | null>(null);
  const [steps, setSteps] = useState<StepRow[]>([]);
  const [nextFrom, setNextFrom] = useState<number | null>(0);
  const [nondet, setNondet] = useState(false);
  const [selected, setSelected] = useState<number | null>(seq);
  const [detail, setDetail] = useState<EventDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useState<ReplayJob | null>(null);
  const loading = useRef(false);

  useEffect(() => {
    setTrace(null);
    setSteps([]);
    setNextFrom(0);
    setError(null);
    api
      .trace(id)
      .then(setTrace)
      .catch((e: Error & { status?: number }) => setError(e.message));
  }, [id]);

  const loadMore = useCallback(() => {
    if (nextFrom === null || loading.current || error) return;
    loading.current = true;
    api
      .steps(id, nextFrom, nondet)
      .then((p) => {
        setSteps((old) => (nextFrom === 0 ? p.steps : [...old, ...p.steps]));
        setNextFrom(p.nextFrom);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => (loading.current = false));
  }, [id, nextFrom, nondet, error]);

  useEffect(() => {
    if (nextFrom === 0) loadMore();
  }, [nextFrom, loadMore]);

  // a deep link to an event far down: keep loading until it is in the list
  useEffect(() => {
    if (selected === null || nextFrom === null) return;
    const lastLoaded = steps[steps.length - 1]?.seq ?? -1;
    if (selected > lastLoaded && steps.length > 0) loadMore();
  }, [selected, steps, nextFrom, loadMore]);

  useEffect(() => {
    if (selected === null) return;
    setDetail(null);
    api
      .event(id, selected)
      .then(setDetail)
      .catch((e: Error) => setError(e.message));
  }, [id, selected]);

  const select = (s: number) => {
    setSelected(s);
    history.replaceState(null, '', traceHref(id, s));
  };

  const index = steps.findIndex((s) => s.seq === selected || s.responseSeq === selected);
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const i =
      e.key === 'Home'
        ? 0
        : e.key === 'End'
          ? steps.length - 1
          : Math.max(0, Math.min(steps.length - 1, index + (e.key === 'ArrowDown' ? 1 : -1)));
    const s = steps[i];
    if (s) select(s.seq);
  };

  const runReplay = async (r: ReplayRequest) => {
    try {
      let j = await api.replay(r);
      setJob(j);
      while (j.state === 'running') {
        await new Promise((res) => setTimeout(res, 400));
        j = await api.job(j.id);
        setJob(j);
      }
      if (j.diff) navigate(diffHref(j.diff.a, j.diff.b, j.diff.untilA));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (error && !trace)
    return (
      <section>
        <h1>Trace {id}</h1>
        <p role="alert" class="error" data-testid="error">
          {error}
        </p>
        <a href="/" onClick={(e) => onLink(e, '/')}>
          All traces
        </a>
      </section>
    );
  if (!trace) return <p class="muted">Loading…</p>;
  const s = trace.summary;
  const total = Math.max(s.durationMs ?? 0, ...steps.slice(-50).map((x) => x.startMs + (x.durationMs ?? 0)), 1);
  return (
    <section class="trace" aria-labelledby="trace-h">
      <header class="trace-head">
        <h1 id="trace-h">
          {s.agent ?? 'trace'} <span class="mono muted">{s.traceId}</span>
        </h1>
        <dl class="facts">
          <dt>status</dt>
          <dd>
            <span class={`status ${s.status}`}>{s.status}</span>
          </dd>
          <dt>events</dt>
          <dd>{s.eventCount.toLocaleString()}</dd>
          <dt>tokens</dt>
          <dd>{fmtTokens(s.inputTokens, s.outputTokens)}</dd>
          <dt>cost</dt>
          <dd>{fmtCost(s.costUsd)}</dd>
          <dt>started</dt>
          <dd>{fmtTime(s.startedAt)}</dd>
          <dt>duration</dt>
          <dd>{fmtDuration(s.durationMs)}</dd>
          {s.replayOf && (
            <>
              <dt>replay of</dt>
              <dd>
                <a href={traceHref(s.replayOf)} onClick={(e) => onLink(e, traceHref(s.replayOf!))} class="mono">
                  {s.replayOf}
                </a>{' '}
                (
                <a href={diffHref(s.replayOf, s.traceId)} onClick={(e) => onLink(e, diffHref(s.replayOf!, s.traceId))}>
                  diff
                </a>
                )
              </dd>
            </>
          )}
        </dl>
        <div class="actions">
          {canReplay && (
            <button
              type="button"
              data-testid="replay-all"
              onClick={() => runReplay({ mode: 'all', traceId: id })}
              disabled={job?.state === 'running'}
            >
              Replay all
            </button>
          )}
          <label class="check">
            <input
              type="checkbox"
              checked={nondet}
              onChange={() => {
                setNondet(!nondet);
                setSteps([]);
                setNextFrom(0);
              }}
            />{' '}
            show nondeterminism
          </label>
        </div>
        {trace.replays.length > 0 && (
          <details class="replays">
            <summary>{trace.replays.length} replay(s)</summary>
            <ul>
              {trace.replays.map((r) => (
                <li key={r.traceId}>
                  <a href={traceHref(r.traceId)} onClick={(e) => onLink(e, traceHref(r.traceId))} class="mono">
                    {r.traceId}
                  </a>{' '}
                  {r.status} ·{' '}
                  <a href={diffHref(id, r.traceId)} onClick={(e) => onLink(e, diffHref(id, r.traceId))}>
                    diff
                  </a>
                </li>
              ))}
            </ul>
          </details>
        )}
        {job && <JobPanel job={job} />}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </header>
      <div class="split">
        <div class="steps-pane">
          <div class="steps-head" aria-hidden="true">
            <span class="seq">#</span>
            <span class="tree">step</span>
            <span class="dur">time</span>
            <span class="wf">waterfall · {fmtDuration(total)}</span>
          </div>
          <VirtualList
            items={steps}
            rowHeight={ROW}
            label="Steps of the run"
            testId="steps"
            onNearEnd={loadMore}
            scrollTo={index >= 0 ? index : null}
            onKeyDown={onKey}
            {...(selected !== null ? { activeId: `step-${steps[index]?.seq ?? selected}` } : {})}
            render={(st) => (
              // biome-ignore lint/a11y/useKeyWithClickEvents: the listbox handles the keys (↑/↓/Home/End) for every row
              // biome-ignore lint/a11y/noStaticElementInteractions: the row inside is role="option"
              <div onClick={() => select(st.seq)}>
                <StepLine s={st} total={total} selected={st.seq === selected || st.responseSeq === selected} />
              </div>
            )}
          />
        </div>
        <div class="detail-pane">
          {detail ? (
            <Detail detail={detail} traceId={id} canReplay={canReplay} onReplay={runReplay} />
          ) : (
            <p class="muted">{selected === null ? 'Select a step (↑/↓ in the list).' : 'Loading…'}</p>
          )}
        </div>
      </div>
    </section>
  );
}
