/**
 * Inspector benchmark: time to first render in headless Chromium (Debian's /usr/bin/chromium) of
 *   - the trace view of a 10,000-event trace, against the same page for a 100-event trace;
 *   - the trace list over 10,000 traces, against the list over 100 traces (in a second tenant of the same store).
 * Target: ratio ≤ 3 (the step tree and the list are paged and virtualised, so first render should not grow with size).
 * Measured from navigation start to the first step row / trace row being visible; median of 5, in one run.
 * Needs the built UI (`npm run build`).
 *
 *   node --import tsx bench/ui.bench.ts
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { defaultUiDir, startInspector } from '../src/inspect/index.js';
import { openStore } from '../src/store/index.js';
import { TraceBuilder } from '../test/helpers/trace-builder.js';
import { printTable } from './table.js';
import type { BenchRow } from './types.js';

const CHROMIUM = process.env.RETRACE_CHROMIUM ?? '/usr/bin/chromium';

function trace(events: number, startMs: number): TraceBuilder {
  const b = new TraceBuilder('bench-agent', { startMs });
  // each round: llm request/response + tool call/response
  while (b.events.length < events - 1) {
    b.llm('gpt-4o-mini', `answer ${b.events.length}`);
    if (b.events.length < events - 2) b.tool('search', { q: `q${b.events.length}` }, { hits: b.events.length });
  }
  return b.complete();
}

async function firstRender(page: Page, url: string, selector: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(url);
    await page.locator(selector).first().waitFor();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[2]!;
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  if (!existsSync(join(defaultUiDir(), 'index.html'))) throw new Error('dist/ui is missing: run `npm run build`');
  const dir = mkdtempSync(join(tmpdir(), 'retrace-ui-bench-'));
  const store = await openStore(`sqlite:${join(dir, 'bench.db')}`);
  const origin = Date.UTC(2026, 0, 1);
  await store.append('big', 'tr-small', trace(100, origin).events);
  await store.append('big', 'tr-large', trace(10_000, origin + 1000).events);
  for (let i = 0; i < 10_000; i++) await store.append('big', `tr-l-${i}`, trace(4, origin + 10_000 + i * 10).events);
  for (let i = 0; i < 100; i++) await store.append('small', `tr-s-${i}`, trace(4, origin + 10_000 + i * 10).events);
  const server = await startInspector({ store, tenants: ['big', 'small'] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // the UI reads ?tenant from its API calls only through the default tenant, so the list runs use two servers
    const small = await startInspector({ store, tenants: ['small'] });
    const base = server.url;
    const t100 = await firstRender(page, `${base}trace/tr-small`, '[data-testid="step"]');
    const t10k = await firstRender(page, `${base}trace/tr-large`, '[data-testid="step"]');
    const l100 = await firstRender(page, small.url, '[data-testid="trace-row"]');
    const l10k = await firstRender(page, base, '[data-testid="trace-row"]');
    // scrolling the 10k trace: load every page of steps by scrolling to the bottom
    const s0 = performance.now();
    await page.goto(`${base}trace/tr-large`);
    await page.locator('[data-testid="step"]').first().waitFor();
    // a string, so this file needs no DOM types: runs in the page
    await page.evaluate(`(async () => {
      const el = document.querySelector('[data-testid="steps"]');
      for (let i = 0; i < 400; i++) {
        el.scrollTop = el.scrollHeight;
        await new Promise((r) => setTimeout(r, 20));
        if (document.querySelector('[data-testid="step"][data-seq="9999"]')) return;
      }
    })()`);
    const scrollAll = performance.now() - s0;
    const domRows = await page.locator('[data-testid="step"]').count();
    await small.close();
    return [
      { name: 'trace view first render, 100 events (baseline)', value: Math.round(t100), unit: 'ms' },
      {
        name: 'trace view first render, 10,000 events',
        value: Math.round(t10k),
        unit: 'ms',
        target: '≤ 3× baseline',
        ratio: t10k / t100,
      },
      { name: 'trace list first render, 100 traces (baseline)', value: Math.round(l100), unit: 'ms' },
      {
        name: 'trace list first render, 10,000 traces',
        value: Math.round(l10k),
        unit: 'ms',
        target: '≤ 3× baseline',
        ratio: l10k / l100,
      },
      { name: 'scroll a 10,000-event trace to its end (all step pages)', value: Math.round(scrollAll), unit: 'ms' },
      { name: 'step rows in the DOM at the end of the 10,000-event trace', value: domRows, unit: 'rows' },
    ];
  } finally {
    await browser.close();
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTable('ui', await run());
