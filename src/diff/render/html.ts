import type { EventType } from '../../events/payloads.js';
import { displayPath } from '../classify.js';
import type { DiffReport, Difference, TimelineEvent, TimelineRow } from '../report-schema.js';
import { classTitle, eventsOf, refText, showValue, totalsLines, traceName } from './common.js';

export interface HtmlOptions {
  /** document title (default "retrace diff: A vs B") */
  title?: string;
}

/**
 * One self-contained HTML file: inline CSS and a few lines of inline JS, no fonts, images or scripts from anywhere, and
 * a Content-Security-Policy that forbids fetching anything, so it opens from disk, from a CI artifact, or offline.
 * Every event and difference is a native <details> element: it expands without JS. data-testid attributes are the
 * contract with the browser test.
 */
export function renderHtml(report: DiffReport, options: HtmlOptions = {}): string {
  const { a, b } = report;
  const title = options.title ?? `retrace diff: ${traceName(a)} vs ${traceName(b)}`;
  const first = report.firstDivergence;
  const parts: string[] = [];
  parts.push(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="verdict ${report.verdict}" data-testid="verdict">Runs ${esc(report.verdict)}</p>
<p data-testid="summary">${esc(report.summary)}</p>
<p class="muted">Run <b>${esc(a.label)}</b>: <code>${esc(traceName(a))}</code> · Run <b>${esc(b.label)}</b>: <code>${esc(traceName(b))}</code>${a.tenantId ? ` · tenant <code>${esc(a.tenantId)}</code>` : ''}</p>
</header>
<main>`);
  if (first) {
    parts.push(`<section class="first" data-testid="first-divergence">
<h2>First divergence</h2>
<p>${esc(first.sentence)}</p>
<p><a href="#diff-${first.differenceId}" data-open="diff-${first.differenceId}">Show difference ${first.differenceId}</a></p>
</section>`);
  }
  parts.push(totalsSection(report));
  if (report.differences.length > 0) {
    parts.push(`<section><h2>Differences (${report.differences.length})</h2>
<p class="muted">Click a difference to see its patch: <span class="minus">red</span> is run ${esc(a.label)}, <span class="plus">green</span> is run ${esc(b.label)}.</p>
<div class="differences">`);
    for (const d of report.differences) parts.push(differenceHtml(report, d));
    parts.push('</div></section>');
  }
  parts.push(`<section><h2>Timeline</h2>
<p class="toolbar"><button type="button" data-action="expand">Expand all events</button> <button type="button" data-action="collapse">Collapse all</button></p>
<div class="timeline" data-testid="timeline">
<div class="trow head"><div>Run ${esc(a.label)}</div><div></div><div>Run ${esc(b.label)}</div></div>`);
  for (const row of report.timeline) parts.push(rowHtml(row));
  parts.push(`</div></section>
<footer class="muted">Policy: ${esc(report.policy)}. Alignment: ${esc(report.alignment)}. Report format ${esc(report.kind)} v${report.version}.</footer>
</main>
<script>${JS}</script>
</body>
</html>
`);
  return parts.join('\n');
}

function totalsSection(report: DiffReport): string {
  const rows = totalsLines(report.a.totals, report.b.totals)
    .map((l) => `<tr><th>${esc(l.name)}</th><td>${esc(l.a)}</td><td>${esc(l.b)}</td><td>${esc(l.delta)}</td></tr>`)
    .join('\n');
  return `<section><h2>Totals</h2>
<table class="totals" data-testid="totals"><thead><tr><th></th><th>Run ${esc(report.a.label)}</th><th>Run ${esc(report.b.label)}</th><th>Change</th></tr></thead>
<tbody>
${rows}
</tbody></table></section>`;
}

function differenceHtml(report: DiffReport, d: Difference): string {
  let body: string;
  if (d.change === 'added' || d.change === 'removed') {
    const ev = eventsOf(report, d);
    const e = d.change === 'added' ? ev.b : ev.a;
    body = `<p>Only in run ${esc(d.change === 'added' ? report.b.label : report.a.label)}:</p><pre class="${d.change === 'added' ? 'plus' : 'minus'}">${esc(showValue(e?.payload))}</pre>`;
  } else if (d.patch.length === 0) {
    body = `<p>${esc(refText(d.a))} → ${esc(refText(d.b))}</p>`;
  } else {
    const type = (d.a?.type ?? d.b?.type ?? 'decision_made') as EventType;
    const ops = d.patch
      .map(
        (op) => `<tr><td><code>${esc(displayPath(type, op.path))}</code><br><span class="muted">${op.op}</span></td>
<td>${op.op === 'add' ? '<span class="muted">(absent)</span>' : `<pre class="minus">${esc(showValue(op.oldValue))}</pre>`}</td>
<td>${op.op === 'remove' ? '<span class="muted">(absent)</span>' : `<pre class="plus">${esc(showValue(op.value))}</pre>`}</td></tr>`,
      )
      .join('\n');
    body = `<table class="patch"><thead><tr><th>Field</th><th>Run ${esc(report.a.label)}</th><th>Run ${esc(report.b.label)}</th></tr></thead><tbody>
${ops}
</tbody></table>`;
  }
  return `<details class="difference" id="diff-${d.id}" data-testid="difference">
<summary data-testid="difference-row"><span class="num">${d.id}</span><span class="cls ${d.class}">${esc(classTitle(d.class))}</span><span>${esc(refText(d.a))}</span><span>${esc(refText(d.b))}</span><span>${esc(d.sentence)}</span></summary>
<div class="detail" data-testid="difference-detail">${body}</div>
</details>`;
}

const MARK: Record<string, string> = { same: '=', equivalent: '≈', changed: '≠', added: '+', removed: '−', moved: '↕' };

function rowHtml(row: TimelineRow): string {
  if (row.kind === 'gap') {
    return `<div class="trow gap"><div>#${row.a.from}–#${row.a.to}</div><div>⋯</div><div>#${row.b.from}–#${row.b.to}</div><div class="gaptext">${row.count.toLocaleString('en-US')} unchanged events not shown</div></div>`;
  }
  const links = row.differenceIds.map((id) => `<a href="#diff-${id}" data-open="diff-${id}">${id}</a>`).join(' ');
  return `<div class="trow ${row.status}" data-testid="timeline-row" data-status="${row.status}">${eventCell(row.a)}<div class="mark" title="${row.status}">${MARK[row.status] ?? ''}${links ? `<br>${links}` : ''}</div>${eventCell(row.b)}</div>`;
}

function eventCell(e: TimelineEvent | null): string {
  if (!e) return '<div class="empty"></div>';
  return `<div><details class="event" data-testid="timeline-event"><summary><span class="num">#${e.index}</span> ${esc(e.label)}</summary><p class="muted">${esc(e.timestamp)}</p><pre>${esc(showValue(e.payload))}</pre></details></div>`;
}

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `
:root{--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--red:#ffebe9;--redfg:#82071e;--green:#dafbe1;--greenfg:#116329;--amber:#fff8c5}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:1200px;margin:0 auto;padding:0 16px}h1{font-size:20px;margin:16px 0 8px}h2{font-size:16px;margin:24px 0 8px}
.muted{color:var(--muted)}code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;padding:6px;background:#f6f8fa;border-radius:4px;max-height:420px;overflow:auto}
.verdict{display:inline-block;font-weight:600;padding:4px 10px;border-radius:12px;margin:0}
.verdict.identical,.verdict.equivalent{background:var(--green);color:var(--greenfg)}.verdict.diverged{background:var(--red);color:var(--redfg)}
.first{border:1px solid #d4a72c;background:var(--amber);border-radius:6px;padding:4px 12px}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
.totals td{text-align:right}
details.difference{border:1px solid var(--line);border-radius:6px;margin:4px 0}
details.difference>summary{cursor:pointer;display:grid;grid-template-columns:3em 11em 14em 14em 1fr;gap:8px;padding:6px 8px;list-style:none}
details.difference>summary::-webkit-details-marker{display:none}details.difference[open]>summary{background:#f6f8fa}
.detail{padding:8px}.patch{width:100%}.patch td{width:40%}.patch td:first-child{width:20%}
.cls{font-weight:600}.minus{background:var(--red)}.plus{background:var(--green)}
.timeline{border:1px solid var(--line);border-radius:6px}
.trow{display:grid;grid-template-columns:1fr 4em 1fr;border-top:1px solid var(--line)}.trow>div{padding:4px 8px;min-width:0}
.trow.head{font-weight:600;border-top:0;background:#f6f8fa}.mark{text-align:center;font-weight:700}
.trow.changed,.trow.moved{background:var(--amber)}.trow.added>div:last-child{background:var(--green)}.trow.removed>div:first-child{background:var(--red)}
.trow.equivalent .mark{color:var(--muted)}.trow.gap{color:var(--muted);background:#f6f8fa}.gaptext{grid-column:1/4;text-align:center}
.empty{background:repeating-linear-gradient(45deg,#f6f8fa,#f6f8fa 6px,#fff 6px,#fff 12px)}
details.event>summary{cursor:pointer}.num{color:var(--muted)}footer{margin:24px 0}
`;

// Opens a difference when a link to it is followed, and expands/collapses all timeline events.
const JS = `
document.addEventListener('click',function(e){var t=e.target;if(!(t instanceof Element))return;
var open=t.closest('[data-open]');if(open){var d=document.getElementById(open.getAttribute('data-open'));if(d){d.open=true;}}
var act=t.closest('[data-action]');if(act){var on=act.getAttribute('data-action')==='expand';
document.querySelectorAll('details.event').forEach(function(x){x.open=on;});}});
`;
