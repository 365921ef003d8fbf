import { DiffReportSchema, type DiffReport } from '../report-schema.js';

/**
 * The machine-readable report: validated against the versioned schema on the way out, so a consumer never receives a
 * document docs/diff-report-schema.json does not describe.
 */
export function renderJson(report: DiffReport): string {
  return `${JSON.stringify(DiffReportSchema.parse(report), null, 2)}\n`;
}
