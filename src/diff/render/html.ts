import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetraceError } from '../../errors.js';
import { clipValue, REPORT_VALUE_BYTES } from '../clip.js';
import type { DiffReport } from '../report-schema.js';
import { traceName } from './common.js';

export interface HtmlOptions {
  /** document title (default "retrace diff: A vs B") */
  title?: string;
}

/** The built report page is missing: this copy of retrace runs from sources that were never built. */
export class ReportPageMissingError extends RetraceError {
  readonly code = 'REPORT_PAGE_MISSING';
  constructor(readonly path: string) {
    super(
      `The HTML report page is not built (looked for ${path}).`,
      'Run `npm run build` in the retrace checkout, or write the report as --format md or json.',
      'environment',
    );
  }
}

const PLACEHOLDER = '<!--retrace-report-->';
let page: { path: string; html: string } | undefined;

/** dist/report/report.html of the package, whether this module runs from src/ (tsx) or dist/src/. */
function reportPagePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dirname(dir) !== dir) {
    try {
      readFileSync(join(dir, 'package.json'));
      break;
    } catch {
      dir = dirname(dir);
    }
  }
  return join(dir, 'dist', 'report', 'report.html');
}

function reportPage(): string {
  if (page) return page.html;
  const path = reportPagePath();
  let html: string;
  try {
    html = readFileSync(path, 'utf8');
  } catch {
    throw new ReportPageMissingError(path);
  }
  if (!html.includes(PLACEHOLDER)) throw new ReportPageMissingError(path);
  page = { path, html };
  return html;
}

/** Large payloads and patch values replaced by their size and hash, so a 5 MB tool result does not make a 5 MB page. */
function clipped(report: DiffReport): DiffReport {
  const clip = (v: unknown): unknown => (v === undefined ? undefined : clipValue(v, REPORT_VALUE_BYTES));
  return {
    ...report,
    timeline: report.timeline.map((row) =>
      row.kind === 'gap'
        ? row
        : {
            ...row,
            a: row.a && { ...row.a, payload: clip(row.a.payload) },
            b: row.b && { ...row.b, payload: clip(row.b.payload) },
          },
    ),
    differences: report.differences.map((d) => ({
      ...d,
      patch: d.patch.map((op) => ({
        ...op,
        ...(op.value !== undefined ? { value: clip(op.value) } : {}),
        ...(op.oldValue !== undefined ? { oldValue: clip(op.oldValue) } : {}),
      })),
    })),
  };
}

/**
 * One self-contained HTML file: the inspector's diff view (ui/src/DiffView.tsx, built by ui/vite.report.config.ts into
 * one page with its script and styles inline) with the report embedded as JSON. It loads nothing from anywhere, and
 * its Content-Security-Policy forbids fetching, so it opens from disk, from a CI artifact, or offline.
 */
export function renderHtml(report: DiffReport, options: HtmlOptions = {}): string {
  const title = options.title ?? `retrace diff: ${traceName(report.a)} vs ${traceName(report.b)}`;
  // `<` escaped: the JSON sits inside a <script> element, where `</script>` or `<!--` in a payload would end or bend it
  const json = JSON.stringify(clipped(report))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return reportPage()
    .replace(/<title>[^<]*<\/title>/, () => `<title>${esc(title)}</title>`)
    .replace(PLACEHOLDER, () => json);
}

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
