import type { PatchOp } from '../json-diff.js';
import type { DiffReport, Difference } from '../report-schema.js';
import { displayPath } from '../classify.js';
import type { EventType } from '../../events/payloads.js';
import { classTitle, eventsOf, refText, showValue, totalsLines, traceName } from './common.js';

export interface MarkdownOptions {
  /** rows in the differences table before "…and N more" (default 50): PR comments are capped at 65,536 characters */
  maxRows?: number;
  /** patch operations shown for the first divergence (default 20) */
  maxPatchOps?: number;
  /** heading level of the title (default 2, so it nests under a CI job summary's own heading) */
  headingLevel?: number;
}

const ICON = { identical: '✅', equivalent: '✅', diverged: '❌' } as const;

/**
 * Markdown for a PR comment or a CI job summary. Written for a reader who has never seen retrace: the verdict line
 * first, then where the runs first part and exactly what changed there, then every difference, then the totals.
 */
export function renderMarkdown(report: DiffReport, options: MarkdownOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const maxOps = options.maxPatchOps ?? 20;
  const h = '#'.repeat(Math.min(6, Math.max(1, options.headingLevel ?? 2)));
  const { a, b } = report;
  const out: string[] = [];
  out.push(`${h} ${ICON[report.verdict]} retrace diff: runs ${report.verdict}`, '');
  out.push(report.summary, '');
  out.push(
    `Compared run **${a.label}** (\`${traceName(a)}\`) with run **${b.label}** (\`${traceName(b)}\`)${a.tenantId ? `, tenant \`${a.tenantId}\`` : ''}.`,
    '',
  );

  const first = report.firstDivergence;
  const firstDiff = first ? report.differences.find((d) => d.id === first.differenceId) : undefined;
  if (first && firstDiff) {
    out.push(`${h}# First divergence`, '');
    out.push(`**${cell(first.sentence)}**`, '');
    out.push(...fenced(patchLines(report, firstDiff, maxOps), 'diff'), '');
  }

  if (report.differences.length > 0) {
    out.push(`${h}# Differences (${report.differences.length})`, '');
    out.push(`| # | Kind | Run ${cell(a.label)} | Run ${cell(b.label)} | What changed |`, '|--:|---|---|---|---|');
    for (const d of report.differences.slice(0, maxRows)) {
      out.push(
        `| ${d.id} | ${classTitle(d.class)} | ${cell(refText(d.a))} | ${cell(refText(d.b))} | ${cell(d.sentence)} |`,
      );
    }
    if (report.differences.length > maxRows) {
      out.push('', `…and ${report.differences.length - maxRows} more differences (see the JSON or HTML report).`);
    }
    out.push('');
  }

  out.push(`${h}# Totals`, '', `| | Run ${cell(a.label)} | Run ${cell(b.label)} | Change |`, '|---|--:|--:|--:|');
  for (const line of totalsLines(a.totals, b.totals))
    out.push(`| ${line.name} | ${line.a} | ${line.b} | ${line.delta} |`);
  out.push('');
  const ignored =
    a.ignoredEvents + b.ignoredEvents > 0
      ? ` Events not compared: ${a.ignoredEvents} in ${a.label}, ${b.ignoredEvents} in ${b.label}.`
      : '';
  out.push(
    `<sub>Policy: ${cell(report.policy)}.${ignored} Alignment: ${report.alignment}. Report format ${report.kind} v${report.version}.</sub>`,
    '',
  );
  return out.join('\n');
}

/** A table cell: no line breaks, no pipes, no raw HTML from payload values. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A code fence longer than any backtick run in the content, so payload text cannot close it early. */
function fenced(lines: string[], lang: string): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...lines, fence];
}

/** The first divergence as a unified-diff-like listing: "-" lines are run A, "+" lines run B. */
function patchLines(report: DiffReport, d: Difference, maxOps: number): string[] {
  const lines: string[] = [];
  if (d.change === 'added' || d.change === 'removed') {
    const ev = eventsOf(report, d);
    const e = d.change === 'added' ? ev.b : ev.a;
    const sign = d.change === 'added' ? '+' : '-';
    lines.push(
      `@@ ${d.change === 'added' ? `only in ${report.b.label}` : `only in ${report.a.label}`}: ${refText(d.change === 'added' ? d.b : d.a)} @@`,
    );
    for (const l of showValue(e?.payload).split('\n')) lines.push(`${sign} ${l}`);
    return lines;
  }
  if (d.patch.length === 0) {
    lines.push(`@@ ${refText(d.a)} → ${refText(d.b)} @@`);
    return lines;
  }
  const type = (d.a?.type ?? d.b?.type ?? 'decision_made') as EventType;
  for (const op of d.patch.slice(0, maxOps)) lines.push(...opLines(type, op));
  if (d.patch.length > maxOps) lines.push(`@@ …and ${d.patch.length - maxOps} more changes @@`);
  return lines;
}

function opLines(type: EventType, op: PatchOp): string[] {
  const lines = [`@@ ${displayPath(type, op.path)} (${op.op}) @@`];
  if (op.op !== 'add') for (const l of showValue(op.oldValue).split('\n')) lines.push(`- ${l}`);
  if (op.op !== 'remove') for (const l of showValue(op.value).split('\n')) lines.push(`+ ${l}`);
  return lines;
}
