import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTraces, renderHtml } from '../../src/diff/index.js';
import { FIXTURE_PAIRS } from './fixtures.js';

/**
 * Opens the HTML report in real headless Chromium (Debian's `chromium` package; `.ci/run` installs it). Missing
 * Chromium is a failure, not a skip: a skipped browser test would let a broken report ship unnoticed.
 */
const CHROMIUM = process.env.RETRACE_CHROMIUM ?? '/usr/bin/chromium';

describe('HTML diff report in a browser', () => {
  let browser: Browser | undefined;

  // launched inside the test, not in beforeAll: a hook failure would report the test as skipped
  async function launch(): Promise<Browser> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set RETRACE_CHROMIUM to its path.`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    return browser;
  }

  afterAll(async () => {
    await browser?.close();
  });

  it('draws the diff view from the file alone: verdict, first divergence, differences, navigation, payloads', async () => {
    const browser = await launch();
    const [a, b] = (FIXTURE_PAIRS['tool-call-inserted'] as () => [never, never])();
    const report = await diffTraces(a, b);
    const dir = mkdtempSync(join(tmpdir(), 'retrace-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(report));

    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);

    const verdict = page.getByTestId('verdict');
    await verdict.waitFor();
    expect(await verdict.textContent()).toBe('Runs diverged');
    expect(await page.getByTestId('summary').textContent()).toBe(report.summary);

    const first = page.getByTestId('first-divergence');
    expect(await first.textContent()).toContain(report.firstDivergence?.sentence);

    // every difference is drawn in the timeline, with its class and field paths as people read them
    expect(await page.getByTestId('difference').count()).toBe(report.differences.length);
    expect(await page.getByTestId('diff-timeline').textContent()).toContain('messages[4]');
    // the first divergence is marked and is the current difference; next/previous move through them
    expect(await page.locator('[data-testid="diff-row"].first-div').count()).toBe(1);
    expect(await page.locator('[data-testid="diff-row"].current').count()).toBeGreaterThan(0);
    const position = page.getByRole('toolbar', { name: 'Differences' }).locator('[aria-live]');
    expect(await position.textContent()).toBe(`difference 1 of ${report.differences.length}`);
    await page.getByTestId('next-diff').click();
    expect(await position.textContent()).toBe(`difference 2 of ${report.differences.length}`);
    await page.keyboard.press('p');
    expect(await position.textContent()).toBe(`difference 1 of ${report.differences.length}`);

    // the totals compare both runs, with the change
    expect(await page.getByTestId('totals').textContent()).toContain('Tool calls');

    // an event's payload opens on click
    const payload = page.getByTestId('diff-row').first().locator('details').first();
    expect(await payload.locator('pre').isVisible()).toBe(false);
    await payload.locator('summary').click();
    expect(await payload.locator('pre').isVisible()).toBe(true);

    // self-contained: the page itself is the only thing loaded, and its script ran without errors
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a payload holding `</script>` as text, not markup', async () => {
    const browser = await launch();
    const [a, b] = (FIXTURE_PAIRS['prompt-changed'] as () => [never, never])();
    const report = await diffTraces(a, b);
    const row = report.timeline.find((r) => r.kind === 'event' && r.a);
    if (row?.kind !== 'event' || !row.a) throw new Error('fixture has no event row');
    row.a.payload = { text: '</script><script>document.title="owned"</script><!--' };
    const dir = mkdtempSync(join(tmpdir(), 'retrace-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(report, { title: 'escaped' }));
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.getByTestId('verdict').waitFor();
    expect(await page.title()).toBe('escaped');
    expect(await page.getByTestId('diff-timeline').textContent()).toContain('</script><script>');
    await page.close();
  });
});
