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

  it('shows the verdict and the first divergence, and a difference row expands on click', async () => {
    const browser = await launch();
    const [a, b] = (FIXTURE_PAIRS['tool-call-inserted'] as () => [never, never])();
    const report = await diffTraces(a, b);
    const dir = mkdtempSync(join(tmpdir(), 'retrace-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(report));

    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);

    const verdict = page.getByTestId('verdict');
    expect(await verdict.isVisible()).toBe(true);
    expect(await verdict.textContent()).toBe('Runs diverged');

    const first = page.getByTestId('first-divergence');
    expect(await first.isVisible()).toBe(true);
    expect(await first.textContent()).toContain(report.firstDivergence?.sentence);

    const rows = page.getByTestId('difference-row');
    expect(await rows.count()).toBe(report.differences.length);
    const detail = page.getByTestId('difference-detail').nth(2);
    expect(await detail.isVisible()).toBe(false);
    await rows.nth(2).click();
    expect(await detail.isVisible()).toBe(true);
    expect(await detail.textContent()).toContain('messages[4]');

    // the "Show difference" link in the first-divergence box opens that difference
    const firstDetail = page.getByTestId('difference-detail').nth(0);
    expect(await firstDetail.isVisible()).toBe(false);
    await first.getByRole('link').click();
    expect(await firstDetail.isVisible()).toBe(true);

    // timeline events expand too
    const event = page.getByTestId('timeline-event').first();
    await event.locator('summary').click();
    expect(await event.locator('pre').isVisible()).toBe(true);

    // self-contained: the page itself is the only thing loaded
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });
});
