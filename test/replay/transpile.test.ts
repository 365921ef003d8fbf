import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

/**
 * TypeScript agents are transpiled once per content (src/replay/sandbox/transpile.ts): a later process finds the
 * bundle through the manifest when every source still hashes the same — without esbuild — and transpiles again when
 * one changed.
 */
const dir = mkdtempSync(join(tmpdir(), 'retrace-transpile-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.doUnmock('../../src/replay/sandbox/runtime-bundle.js');
  vi.resetModules();
});

/** transpile.ts as a fresh process would load it (empty memo); `esbuild: false` leaves it without esbuild */
async function freshTranspile(esbuild = true) {
  vi.resetModules();
  vi.doUnmock('../../src/replay/sandbox/runtime-bundle.js');
  if (!esbuild)
    vi.doMock('../../src/replay/sandbox/runtime-bundle.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../src/replay/sandbox/runtime-bundle.js')>()),
      loadEsbuild: () => undefined,
    }));
  return import('../../src/replay/sandbox/transpile.js');
}

describe('TypeScript agents: transpiled once per content, across processes', () => {
  it('reuses the bundle of unchanged sources without esbuild, and transpiles a changed one again', async () => {
    mkdirSync(join(dir, 'lib'), { recursive: true });
    const entry = join(dir, 'agent.ts');
    const helper = join(dir, 'lib', 'helper.ts');
    writeFileSync(helper, "export const word = (n: number): string => 'w'.repeat(n);\n");
    writeFileSync(
      entry,
      "import { word } from './lib/helper.ts';\nexport async function run(): Promise<string> { return word(2); }\n",
    );

    const first = await (await freshTranspile()).transpileAgent(entry, undefined);
    expect(readFileSync(first.file, 'utf8')).toMatch(/["']w["']\.repeat/);

    // another process, sources unchanged (only touched): the manifest answers, esbuild is not needed
    utimesSync(helper, new Date(), new Date(Date.now() + 5_000));
    const again = await (await freshTranspile(false)).transpileAgent(entry, undefined);
    expect(again).toEqual(first);

    // a source whose content changed: the manifest no longer matches, so it needs esbuild again…
    writeFileSync(helper, "export const word = (n: number): string => 'x'.repeat(n);\n");
    await expect((await freshTranspile(false)).transpileAgent(entry, undefined)).rejects.toMatchObject({
      code: 'SANDBOX_START_FAILED',
    });
    // …and gets a new bundle with the new content
    const changed = await (await freshTranspile()).transpileAgent(entry, undefined);
    expect(changed.file).not.toBe(first.file);
    expect(readFileSync(changed.file, 'utf8')).toMatch(/["']x["']\.repeat/);
  });
});
