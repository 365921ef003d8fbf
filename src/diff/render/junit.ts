import type { DiffReport } from '../report-schema.js';
import { classTitle, refText, traceName } from './common.js';

export interface JunitOptions {
  /** testsuite name (default "retrace diff") */
  suiteName?: string;
  /** one name per report (default "<trace A> vs <trace B>") */
  names?: readonly string[];
  /** differences listed in a failure's text (default 50) */
  maxDifferences?: number;
}

/**
 * JUnit XML, the format every CI system shows: one testcase per compared pair of traces; a diverged pair fails with
 * the first divergence as the failure message. No timestamps or durations, so the output is reproducible.
 */
export function renderJunit(reports: DiffReport | readonly DiffReport[], options: JunitOptions = {}): string {
  const list: readonly DiffReport[] = Array.isArray(reports) ? reports : [reports as DiffReport];
  const suite = options.suiteName ?? 'retrace diff';
  const maxDiffs = options.maxDifferences ?? 50;
  const failures = list.filter((r) => r.verdict === 'diverged').length;
  const cases = list.map((r, i) => {
    const name = options.names?.[i] ?? `${traceName(r.a)} vs ${traceName(r.b)}`;
    const open = `    <testcase classname="retrace.diff" name="${attr(name)}">`;
    if (r.verdict !== 'diverged') return `${open}\n      <system-out>${text(r.summary)}</system-out>\n    </testcase>`;
    const lines = [r.summary, ''];
    for (const d of r.differences.slice(0, maxDiffs)) {
      lines.push(`${d.id}. [${classTitle(d.class)}] ${refText(d.a)} | ${refText(d.b)}: ${d.sentence}`);
    }
    if (r.differences.length > maxDiffs) lines.push(`…and ${r.differences.length - maxDiffs} more differences`);
    const message = r.firstDivergence?.sentence ?? r.summary;
    return `${open}\n      <failure message="${attr(message)}" type="diverged">${text(lines.join('\n'))}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${attr(suite)}" tests="${list.length}" failures="${failures}" errors="0">
  <testsuite name="${attr(suite)}" tests="${list.length}" failures="${failures}" errors="0" skipped="0">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** XML 1.0 cannot carry most control characters at all, even escaped: drop them. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

function text(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
