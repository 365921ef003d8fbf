import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, ensureBuilt, ROOT } from '../cli/cli-harness.js';

/**
 * What `npm publish` would ship, read from `npm pack --dry-run --json` over the built tree (scripts off: the build
 * is ensureBuilt's): the runtime and nothing else — no tests, no fixtures but the LLM stub `retrace stub` serves, no
 * source maps pointing at sources that are not in the package — and every entry point package.json promises.
 */
interface PackFile {
  path: string;
  size: number;
}

let files: string[] = [];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string | { types?: string; import?: string }>;
  scripts: Record<string, string>;
};

beforeAll(async () => {
  await ensureBuilt();
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as Array<{ files: PackFile[] }>;
  files = (report?.files ?? []).map((f) => f.path);
}, BUILD_TIMEOUT_MS);

describe('npm pack contents', () => {
  it('ships the LICENSE, README, the bin and every exports target', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    for (const target of Object.values(pkg.bin)) expect(files).toContain(target.replace(/^\.\//, ''));
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      const targets = typeof entry === 'string' ? [entry] : [entry.import, entry.types];
      for (const t of targets) {
        if (t === undefined) continue;
        expect(files, `exports["${subpath}"] → ${t}`).toContain(t.replace(/^\.\//, ''));
      }
    }
    expect(files).toContain('dist/replay-cli/main.js');
    expect(files).toContain('dist/fixtures/llm-stub/server.js');
    // `retrace ui` serves the built inspector, and the HTML report is its diff view in one file
    expect(files).toContain('dist/ui/index.html');
    expect(files.some((f) => /^dist\/ui\/assets\/.+\.js$/.test(f))).toBe(true);
    expect(files).toContain('dist/report/report.html');
  });

  it('ships no tests, no test fixtures or example agents, no TypeScript sources, benches or scripts', () => {
    const unwanted = files.filter(
      (f) =>
        /(^|\/)test\//.test(f) ||
        /\.test\.(js|ts)$/.test(f) ||
        f.startsWith('dist/fixtures/agents/') ||
        (f.startsWith('fixtures/') && !f.startsWith('dist/')) ||
        /^(src|replay-cli|sandbox|bench|scripts)\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(unwanted).toEqual([]);
    expect(
      files.filter((f) => f.startsWith('dist/fixtures/')).every((f) => f.startsWith('dist/fixtures/llm-stub/')),
    ).toBe(true);
  });

  it('ships a source map only together with the sources it points at', () => {
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const parsed = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: string[];
      };
      const inlined = parsed.sourcesContent?.length === parsed.sources.length;
      const shipped = parsed.sources.every((s) => files.includes(join(map, '..', s)));
      expect(inlined || shipped, `${map} points at sources the package does not ship`).toBe(true);
    }
  });

  it('builds before packing, from a clean dist/', () => {
    expect(pkg.scripts.prepack).toMatch(/rmSync\('dist'/);
    expect(pkg.scripts.prepack).toMatch(/npm run build$/);
  });
});
