import { render } from 'preact';
import type { DiffReport } from '../../src/diff/report-schema.js';
import { DiffBody } from './DiffView.js';
import './styles.css';

/**
 * The static diff report (`retrace replay --report`, `retrace diff --format html`): the inspector's own diff view,
 * drawn from the report JSON that src/diff/render/html.ts embeds in this page. No server, no fetch: it opens from disk.
 */
function ReportPage({ report }: { report: DiffReport }) {
  const name = (side: DiffReport['a']) => side.traceId ?? '(unnamed trace)';
  return (
    <>
      <header class="top">
        <span class="brand">retrace</span>
        <span class="muted">
          Run {report.a.label}: <code>{name(report.a)}</code> · Run {report.b.label}: <code>{name(report.b)}</code>
          {report.a.tenantId ? ` · tenant ${report.a.tenantId}` : ''}
        </span>
      </header>
      <main id="main">
        <h1>{document.title}</h1>
        <DiffBody report={report} links={false} />
      </main>
    </>
  );
}

const data = document.getElementById('retrace-report')?.textContent ?? '';
const app = document.getElementById('app')!;
try {
  render(<ReportPage report={JSON.parse(data) as DiffReport} />, app);
} catch (err) {
  app.textContent = `This report file holds no readable diff (${err instanceof Error ? err.message : String(err)}): render it again with retrace.`;
}
