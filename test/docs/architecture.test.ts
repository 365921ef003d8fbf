import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layer rules of docs/architecture.md are enforced by biome.json (noRestrictedImports per folder). This checks the
 * rules really fire: probe files that break one arrow each (and a few that keep to them) are linted with the
 * repository's own biome.json, in a scratch folder so no probe ever lands in the real tree.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');
const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'retrace-architecture-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const config = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8')) as Record<string, unknown>;
delete config.$schema;
config.vcs = { enabled: false };
writeFileSync(join(scratch, 'biome.json'), JSON.stringify(config));

/** [file, import specifier, must it be refused?] */
const PROBES: Array<[string, string, boolean]> = [
  ['src/events/probe.ts', '../store/types.js', true],
  ['src/events/probe2.ts', '../errors.js', false],
  ['src/hashing/probe.ts', '../store/types.js', true],
  ['src/store/probe.ts', '../recorder/hooks.js', true],
  ['src/store/s3/probe.ts', '../../replay/hooks.js', true],
  ['src/store/s3/probe2.ts', '../../events/envelope.js', false],
  ['src/diff/probe.ts', '../../replay-cli/errors.js', true],
  ['src/diff/probe2.ts', '../recorder/recorder.js', true],
  ['src/recorder/probe.ts', '../../fixtures/llm-stub/index.js', true],
  ['src/recorder/probe2.ts', '../store/open-store.js', false],
  ['src/transfer/probe.ts', '../replay/replay.js', true],
  ['src/replay/probe.ts', '../transfer/ndjson.js', true],
  ['src/replay/probe2.ts', '../../sandbox/guard.js', true],
  ['src/replay/cache/probe.ts', '../../diff/json-diff.js', false],
  ['src/replay/probe3.ts', './sandbox/launch.js', false],
  ['sandbox/probe.ts', '../src/store/sqlite/sqlite-store.js', true],
  ['sandbox/probe2.ts', '../src/replay/hooks.js', false],
  ['replay-cli/probe.ts', '../test/helpers/trace-builder.js', true],
  ['replay-cli/commands/probe.ts', './import.js', true],
  ['replay-cli/commands/probe2.ts', './types.js', false],
];

for (const [file, specifier] of PROBES) {
  mkdirSync(dirname(join(scratch, file)), { recursive: true });
  writeFileSync(join(scratch, file), `import * as m from '${specifier}';\nexport const probe = m;\n`);
}

async function refusedFiles(): Promise<Set<string>> {
  const out = await run(BIOME, ['lint', '--max-diagnostics=200', '.'], { cwd: scratch }).then(
    (r) => r.stdout + r.stderr,
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
  const refused = new Set<string>();
  for (const m of out.matchAll(/^(\S+\.ts):\d+:\d+ lint\/style\/noRestrictedImports/gm)) refused.add(m[1]!);
  return refused;
}

describe('docs/architecture.md is enforced by the lint rules', () => {
  it('each probe that breaks a layer arrow is refused, each that keeps to them is not', {
    timeout: 60_000,
  }, async () => {
    const refused = await refusedFiles();
    for (const [file, specifier, bad] of PROBES) {
      expect(refused.has(file), `${file} importing ${specifier} should ${bad ? '' : 'not '}be refused`).toBe(bad);
    }
  });
});
