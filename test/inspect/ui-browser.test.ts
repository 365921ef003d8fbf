import { existsSync, mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { runUiExpectingExit, startUi, type RunningUi } from './cli-ui.js';
import { OTHER, recordStore, TENANT, type RecordedStore } from './fixture.js';

/**
 * The inspector end to end: the built `retrace ui` over a store recorded through the real openai SDK, driven in
 * Debian's Chromium. Missing Chromium or a missing build is a failure, not a skip (see test/diff/html-browser.test.ts).
 * The run writes the screenshots docs/ui.md shows.
 */
const CHROMIUM = process.env.RETRACE_CHROMIUM ?? '/usr/bin/chromium';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = `${repoRoot}docs/ui`;
const SLOW = 300_000;

let rec: RecordedStore;
let ui: RunningUi;
let browser: Browser;
let finalAnswer: string;
/** seq of the refund_order tool call in the refund run */
let refundCallSeq = -1;
/** seq of the first LLM call's response: "replay to here" on that call replays up to it */
let firstResponseSeq = -1;

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium.`);
  return chromium.launch({
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
}

beforeAll(async () => {
  if (!existsSync(`${repoRoot}dist/ui/index.html`) || !existsSync(`${repoRoot}dist/replay-cli/commands/ui.js`))
    throw new Error('dist/ is not built: run `npm run build` first.');
  rec = await recordStore();
  const store = await openStore(rec.url);
  for await (const e of store.read(TENANT, rec.refund)) {
    if (e.type === 'agent_completed') finalAnswer = (e.payload.output as { answer: string }).answer;
    if (e.type === 'tool_call' && e.payload.tool === 'refund_order') refundCallSeq = e.seq;
    if (e.type === 'llm_response' && firstResponseSeq < 0) firstResponseSeq = e.seq;
  }
  await store.close();
  ui = await startUi(['--store', rec.url, '--tenant', TENANT, 'ui', '--port', '0']);
  browser = await launch();
}, SLOW);

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  await rec?.cleanup();
});

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

describe('retrace ui in a browser', () => {
  it('prints a loopback URL and serves the page with no request leaving it', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(ui.url)) foreign.push(r.url());
    });
    await page.goto(ui.url);
    await page.getByTestId('trace-row').first().waitFor();
    expect(await page.getByTestId('trace-row').count()).toBe(2);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('list → filter → trace → tool call and answer → replay to here → fork with an edit → diff', {
    timeout: SLOW,
  }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(ui.url);
    await page.getByTestId('trace-row').first().waitFor();
    await shot(page, 'list');

    // text search over prompts: only the refund run mentions "broken"
    await page.getByLabel('Search').fill('arrived broken');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/q=arrived/);
    await expect.poll(() => page.getByTestId('trace-row').count()).toBe(1);
    expect(await page.getByTestId('trace-row').getAttribute('data-trace-id')).toBe(rec.refund);
    // a filter that matches nothing
    await page.getByLabel('Model').fill('no-such-model');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No traces match.').waitFor();

    // open the trace by its deep link to the second LLM call's request (seq 10: asks for refund_order)
    await page.goto(`${ui.url}trace/${rec.refund}`);
    const steps = page.getByTestId('step');
    await steps.first().waitFor();
    const llmSteps = page.locator('[data-testid="step"].llm');
    expect(await llmSteps.count()).toBe(3);
    await llmSteps.nth(1).click();
    const detail = page.getByTestId('detail');
    const call = detail.getByTestId('chat-response').getByTestId('tool-call');
    await call.waitFor();
    expect(await call.textContent()).toContain('refund_order');
    expect(await call.textContent()).toContain('"reason": "arrived broken"');
    // the request side renders the conversation: system prompt, user question, the earlier tool result
    const req = detail.getByTestId('chat-request');
    expect(await req.getByTestId('msg-system').textContent()).toContain('support agent for customer C-42');
    expect(await req.getByTestId('msg-tool').count()).toBe(1);

    // keyboard: ↓ moves to the next step (the refund_order tool call)
    await page.getByTestId('steps').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => detail.locator('h2').textContent()).toContain('tool_call');
    expect(page.url()).toMatch(new RegExp(`\\?seq=${refundCallSeq}$`));

    // the assistant's final answer, rendered as a message
    await llmSteps.nth(2).click();
    const answer = detail.getByTestId('chat-response').getByTestId('msg-assistant');
    await answer.waitFor();
    expect((await answer.textContent())?.includes(finalAnswer)).toBe(true);
    await shot(page, 'trace');

    // raw JSON on demand
    await detail.getByRole('button', { name: 'Raw JSON' }).click();
    expect(await detail.getByTestId('raw-json').textContent()).toContain('"type": "llm_request"');
    await detail.getByRole('button', { name: 'Rendered' }).click();

    // replay to here (the first LLM call): the real engine in the sandbox, then the diff view
    await llmSteps.nth(0).click();
    await detail.getByTestId('replay-to-here').click();
    await page.getByTestId('replay-job').waitFor();
    await page.waitForURL(/\/diff\?/, { timeout: 180_000 });
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/Runs (identical|equivalent)/);
    expect(page.url()).toContain(`untilA=${firstResponseSeq}`);

    // fork: edit the final answer and replay from there
    await page.goto(`${ui.url}trace/${rec.refund}`);
    await llmSteps.nth(2).click();
    await detail.getByTestId('replay-with-edit').click();
    const editor = detail.getByTestId('override-editor').locator('textarea');
    const recorded = await editor.inputValue();
    expect(recorded).toContain(JSON.stringify(finalAnswer).slice(1, 20));
    const body = JSON.parse(recorded) as { choices: Array<{ message: { content: string } }> };
    body.choices[0]!.message.content = 'EDITED refund answer from the inspector';
    await editor.fill(JSON.stringify(body, null, 2));
    await detail.getByTestId('run-override').click();
    await page.waitForURL(/\/diff\?/, { timeout: 180_000 });
    await verdict.waitFor();
    expect(await verdict.textContent()).toBe('Runs diverged');
    const first = page.getByTestId('first-divergence');
    expect(await first.isVisible()).toBe(true);
    expect(await first.textContent()).toMatch(/Event #\d+/);
    // the first divergent row is marked and the word-level highlight shows the edit
    const firstRow = page.locator('[data-testid="diff-row"].first-div');
    expect(await firstRow.count()).toBeGreaterThan(0);
    expect(await page.locator('ins', { hasText: 'EDITED' }).count()).toBeGreaterThan(0);
    // next / previous difference move the current marker
    await page.getByTestId('next-diff').click();
    await page.getByTestId('prev-diff').click();
    expect(await page.locator('[data-testid="diff-row"].current').count()).toBeGreaterThan(0);
    await firstRow.first().scrollIntoViewIfNeeded();
    await shot(page, 'diff');

    // the replays are listed under their original
    await page.goto(ui.url);
    await page.locator('.replay-row').first().waitFor();
    expect(await page.locator('.replay-row').count()).toBe(2);
    await page.close();
  });

  it("another tenant's trace id in a URL is a 404", async () => {
    const res = await fetch(`${ui.url}api/traces/${rec.other}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TRACE_NOT_FOUND');
    const page = await browser.newPage();
    await page.goto(`${ui.url}trace/${rec.other}`);
    await page.getByTestId('error').waitFor();
    expect(await page.getByTestId('error').textContent()).toContain(`No trace "${rec.other}" for tenant "${TENANT}"`);
    expect(await page.content()).not.toContain('Secret other-tenant');
    // nor by naming the tenant
    expect((await fetch(`${ui.url}api/traces/${rec.other}?tenant=${OTHER}`)).status).toBe(404);
    await page.close();
  });
});

describe('retrace ui off loopback', () => {
  it('requires the printed token; refuses to start without one', { timeout: SLOW }, async () => {
    const refused = await runUiExpectingExit([
      '--store',
      rec.url,
      '--tenant',
      TENANT,
      'ui',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--no-token',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('Refusing to serve the inspector on 0.0.0.0 without an access token');

    const open = await startUi(['--store', rec.url, '--tenant', TENANT, 'ui', '--host', '0.0.0.0', '--port', '0']);
    try {
      const url = new URL(open.url);
      const token = url.searchParams.get('token');
      expect(token).toMatch(/^[\w-]{20,}$/);
      // reach it the way another machine would: over a non-loopback address when this machine has one
      const lan = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      const base = `http://${lan ?? '127.0.0.1'}:${url.port}`;
      expect((await fetch(`${base}/api/traces`)).status).toBe(401);
      expect((await fetch(`${base}/`)).status).toBe(401);
      expect((await fetch(`${base}/api/traces?token=wrong-${token}`)).status).toBe(401);
      expect((await fetch(`${base}/api/traces`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${base}/api/traces?token=${token}`)).status).toBe(200);
      // in the browser: the printed URL works, and the page keeps using the token
      const page = await browser.newPage();
      await page.goto(`${base}/?token=${token}`);
      await page.getByTestId('trace-row').first().waitFor();
      expect(page.url()).not.toContain('token=');
      await page.close();
    } finally {
      await open.stop();
    }
  });
});
