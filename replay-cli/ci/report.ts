import { basename } from 'node:path';
import * as z from 'zod';

/**
 * What `retrace ci` reports: the --json result (a zod schema, so scripts and tests parse it), the JUnit XML (one
 * testcase per golden trace) and the Markdown summary (GitHub job summary / PR comment).
 */

export const CI_VERDICTS = ['identical', 'equivalent', 'diverged', 'error'] as const;
export type CiVerdict = (typeof CI_VERDICTS)[number];

export const CiTraceResultSchema = z.object({
  traceId: z.string(),
  /** the golden file the trace came from */
  file: z.string(),
  /** the agent name recorded in the trace */
  agent: z.string().nullable(),
  verdict: z.enum(CI_VERDICTS),
  /** the stored replay trace (null when the sandbox failed before storing an event) */
  replayTraceId: z.string().nullable(),
  /** the first divergence, one sentence (diverged only) */
  firstDivergence: z.string().nullable(),
  /** why the replay could not run to a verdict (verdict "error" only) */
  error: z.object({ code: z.string(), name: z.string(), message: z.string(), hint: z.string().nullable() }).nullable(),
  /** the Markdown diff report written for this trace (--report-dir, diverged traces only) */
  report: z.string().nullable(),
  /** requests the recording could not answer */
  misses: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type CiTraceResult = z.output<typeof CiTraceResultSchema>;

export const CiResultSchema = z.object({
  tenantId: z.string(),
  /** passed: every trace identical or equivalent (exit 0); failed: at least one diverged or errored (exit 1) */
  status: z.enum(['passed', 'failed']),
  /** the --agent override, or null when each trace replayed its recorded entry */
  agent: z.string().nullable(),
  shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).nullable(),
  /** golden files read (all of them, also with --shard: every file is validated on every shard) */
  files: z.array(z.string()),
  /** golden traces in all files, before sharding */
  goldenTraces: z.number().int().nonnegative(),
  imported: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  counts: z.object({
    identical: z.number().int().nonnegative(),
    equivalent: z.number().int().nonnegative(),
    diverged: z.number().int().nonnegative(),
    error: z.number().int().nonnegative(),
  }),
  durationMs: z.number().nonnegative(),
  junit: z.string().nullable(),
  summary: z.string().nullable(),
  /** one entry per golden trace of this shard, in trace id order */
  traces: z.array(CiTraceResultSchema),
});
export type CiResult = z.output<typeof CiResultSchema>;

export function countVerdicts(traces: readonly CiTraceResult[]): CiResult['counts'] {
  const counts = { identical: 0, equivalent: 0, diverged: 0, error: 0 };
  for (const t of traces) counts[t.verdict] += 1;
  return counts;
}

export const passed = (t: CiTraceResult): boolean => t.verdict === 'identical' || t.verdict === 'equivalent';

function shardText(result: CiResult): string {
  return result.shard ? ` (shard ${result.shard.index}/${result.shard.count})` : '';
}

// ── JUnit ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** XML 1.0 cannot carry most control characters at all, even escaped: drop them. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}
const xmlText = (s: string): string => clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlAttr = (s: string): string => xmlText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * One testsuite, one testcase per golden trace: classname `retrace.ci.<file stem>`, name = the trace id. A diverged
 * trace is a <failure> whose message is the first divergence; a replay that could not run (sandbox crash, timeout,
 * agent module that fails to load) is an <error>; both carry the verdict, replay id and report path in their text,
 * passing cases in <system-out>.
 */
export function renderCiJunit(result: CiResult): string {
  const suite = `retrace ci${shardText(result)}`;
  const failures = result.counts.diverged;
  const errors = result.counts.error;
  const tests = result.traces.length;
  const cases = result.traces.map((t) => {
    const stem = basename(t.file).replace(/\.ndjson$/i, '');
    const open = `    <testcase classname="${xmlAttr(`retrace.ci.${stem}`)}" name="${xmlAttr(t.traceId)}" file="${xmlAttr(t.file)}" time="${seconds(t.durationMs)}">`;
    const out = [
      `verdict: ${t.verdict}`,
      `golden: ${t.traceId} (${t.file})${t.agent ? `, agent ${t.agent}` : ''}`,
      `replay: ${t.replayTraceId ?? '(none stored)'}`,
      ...(t.misses > 0 ? [`cache misses: ${t.misses}`] : []),
      ...(t.report ? [`report: ${t.report}`] : []),
    ].join('\n');
    let body = `      <system-out>${xmlText(out)}</system-out>`;
    if (t.verdict === 'diverged') {
      const message = t.firstDivergence ?? 'the replay diverged from the golden trace';
      body = `      <failure message="${xmlAttr(message)}" type="diverged">${xmlText(`${message}\n\n${out}`)}</failure>`;
    } else if (t.verdict === 'error' && t.error) {
      const text = `${t.error.message}${t.error.hint ? `\n  → ${t.error.hint}` : ''}\n\n${out}`;
      body = `      <error message="${xmlAttr(t.error.message)}" type="${xmlAttr(t.error.code)}">${xmlText(text)}</error>`;
    }
    return `${open}\n${body}\n    </testcase>`;
  });
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${xmlAttr(suite)}" ${counts} time="${seconds(result.durationMs)}">
  <testsuite name="${xmlAttr(suite)}" ${counts} skipped="0" time="${seconds(result.durationMs)}">
${cases.join('\n')}${cases.length > 0 ? '\n' : ''}  </testsuite>
</testsuites>
`;
}

// ── Markdown ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** A table cell: one line, no pipes, no raw HTML, cut to a readable length. */
function cell(s: string, max = 200): string {
  const flat = s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const ICON: Record<CiVerdict, string> = { identical: '✅', equivalent: '✅', diverged: '❌', error: '💥' };

/** The verdict line of the run, also printed at the end of the human output. */
export function verdictLine(result: CiResult): string {
  const n = result.traces.length;
  const { identical, equivalent, diverged, error } = result.counts;
  if (n === 0) return `retrace ci: no golden traces in this shard${shardText(result)}`;
  if (result.status === 'passed') {
    return `retrace ci: all ${n} golden trace${n === 1 ? '' : 's'} passed${shardText(result)} (${identical} identical, ${equivalent} equivalent)`;
  }
  const parts = [diverged > 0 ? `${diverged} diverged` : '', error > 0 ? `${error} could not be replayed` : ''].filter(
    Boolean,
  );
  return `retrace ci: ${parts.join(', ')} of ${n} golden trace${n === 1 ? '' : 's'}${shardText(result)}`;
}

/**
 * The job summary: a verdict heading, then one row per golden trace (failures first, then in trace id order) with
 * its verdict, first divergence (or error) and report path.
 */
export function renderCiMarkdown(result: CiResult): string {
  const icon = result.traces.length === 0 ? 'ℹ️' : result.status === 'passed' ? '✅' : '❌';
  const out: string[] = [`## ${icon} ${verdictLine(result)}`, ''];
  const agent = result.agent ? `agent \`${cell(result.agent)}\`` : "each trace's recorded agent entry";
  out.push(
    `Replayed ${result.traces.length} golden trace${result.traces.length === 1 ? '' : 's'} from ${result.files.length} file${result.files.length === 1 ? '' : 's'} against ${agent}, tenant \`${cell(result.tenantId)}\`, in ${(result.durationMs / 1000).toFixed(1)} s.`,
    '',
  );
  if (result.traces.length > 0) {
    out.push('| Trace | Verdict | First divergence | Report |', '|---|---|---|---|');
    const rows = [...result.traces.filter((t) => !passed(t)), ...result.traces.filter(passed)];
    for (const t of rows) {
      const what =
        t.verdict === 'diverged'
          ? (t.firstDivergence ?? '')
          : t.verdict === 'error' && t.error
            ? `${t.error.code}: ${t.error.message}`
            : '';
      out.push(
        `| \`${cell(t.traceId)}\` <sub>${cell(t.file)}</sub> | ${ICON[t.verdict]} ${t.verdict} | ${what ? cell(what) : '—'} | ${t.report ? `\`${cell(t.report)}\`` : '—'} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
