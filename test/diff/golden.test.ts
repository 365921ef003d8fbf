import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  diffTraces,
  renderHtml,
  renderJson,
  renderJunit,
  renderMarkdown,
  type DiffReport,
} from '../../src/diff/index.js';
import { FIXTURE_PAIRS } from './fixtures.js';

/**
 * Golden files: every text renderer on every fixture pair (the HTML report is the inspector's diff view drawn from the
 * embedded JSON report: its content is checked here, its drawing by test/diff/html-browser.test.ts). Regenerate after an intended change with
 *   UPDATE_GOLDEN=1 npx vitest run test/diff/golden.test.ts
 * and review the diff of test/diff/golden/ like code.
 */
const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const RENDERERS: Record<string, (r: DiffReport, name: string) => string> = {
  json: (r) => renderJson(r),
  md: (r) => renderMarkdown(r),
  xml: (r, name) => renderJunit(r, { names: [name] }),
};

function checkGolden(file: string, actual: string): void {
  const path = GOLDEN_DIR + file;
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE)
      throw new Error(`golden file ${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/diff/golden.test.ts`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `${file} differs from its golden file (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(path, 'utf8'));
}

const EXPECTED_VERDICT: Record<string, DiffReport['verdict']> = {
  identical: 'identical',
  'only-timestamps': 'equivalent',
  'prompt-changed': 'diverged',
  'tool-call-inserted': 'diverged',
  'tool-args-changed': 'diverged',
  'failed-vs-completed': 'diverged',
  'different-lengths': 'diverged',
  'one-empty': 'diverged',
};

describe('diff renderers match their golden files', () => {
  for (const [name, make] of Object.entries(FIXTURE_PAIRS)) {
    it(name, async () => {
      const [a, b] = make();
      const report = await diffTraces(a, b);
      expect(report.verdict).toBe(EXPECTED_VERDICT[name]);
      for (const [ext, render] of Object.entries(RENDERERS)) checkGolden(`${name}.${ext}`, render(report, name));
    });
  }

  it('renders several compared traces as one JUnit suite', async () => {
    const reports: DiffReport[] = [];
    const names: string[] = [];
    for (const name of ['identical', 'tool-call-inserted', 'failed-vs-completed']) {
      const [a, b] = (FIXTURE_PAIRS[name] as () => [never, never])();
      reports.push(await diffTraces(a, b));
      names.push(name);
    }
    checkGolden('suite.xml', renderJunit(reports, { names, suiteName: 'golden traces' }));
  });

  it('the HTML report embeds the JSON report whole and links nothing outside the file', async () => {
    for (const [name, make] of Object.entries(FIXTURE_PAIRS)) {
      const [a, b] = make();
      const report = await diffTraces(a, b);
      const html = renderHtml(report, { title: `golden <${name}>` });
      const embedded = /<script type="application\/json" id="retrace-report">([^<]*)<\/script>/.exec(html)?.[1];
      expect(embedded, name).toBeDefined();
      expect(JSON.parse(embedded ?? 'null'), name).toEqual(JSON.parse(renderJson(report)));
      expect(html).toContain(`<title>golden &lt;${name}&gt;</title>`);
      expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[^>]*\shref="(?!data:)/);
      expect(html).toContain("default-src 'none'");
    }
  });
});
