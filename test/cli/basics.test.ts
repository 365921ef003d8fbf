import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, tempStore } from './cli-harness.js';

/** Global behaviour of the built binary: version, help, and the exit codes of usage and environment errors. */
const tmp = tempStore();
const env = { RETRACE_STORE: tmp.url };

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);
afterAll(() => tmp.cleanup());

describe('retrace (global)', () => {
  it('--version prints the package version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await retrace(['--version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('`retrace version` is an alias of --version (and gives JSON with --json)', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await retrace(['version'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${version}\n`);
    const j = await retrace(['version', '--json'], env);
    expect(JSON.parse(j.stdout)).toEqual({ version });
  });

  it('--help lists the commands, the exit codes and examples', async () => {
    const r = await retrace(['--help'], env);
    expect(r.code).toBe(0);
    for (const cmd of [
      'record',
      'list',
      'show',
      'replay',
      'diff',
      'export',
      'import',
      'verify',
      'scan',
      'archive',
      'restore',
      'stub',
      'version',
    ])
      expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toContain('Examples:');
  });

  it('each command has help with examples', async () => {
    for (const cmd of [
      'record',
      'list',
      'show',
      'replay',
      'diff',
      'export',
      'import',
      'verify',
      'scan',
      'archive',
      'restore',
    ]) {
      const r = await retrace([cmd, '--help'], env);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`$ retrace ${cmd}`);
    }
  });

  it('no command: help on stderr, exit 2', async () => {
    const r = await retrace([], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: retrace');
    expect(r.stderr).toContain('error: no command given');
  });

  it('unknown command: exit 2 with a suggestion', async () => {
    const r = await retrace(['lst'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown command 'lst'/);
    expect(r.stderr).toContain('Did you mean list?');
    expect(r.stderr).toContain('  → ');
  });

  it.each([
    [['list', '--bogus'], "unknown option '--bogus'"],
    [['list', '--limit'], "option '--limit <n>' argument missing"],
    [['list', '--limit', 'abc'], 'Invalid value for --limit: must be a whole number'],
    [['list', '--limit', '0'], 'Invalid value for --limit: must be at least 1'],
    [['list', '--limit', '5000'], 'Invalid value for --limit: must be at most 1000'],
    [['list', '--since', '3x'], 'Invalid value for --since'],
    [['list', '--status', 'bogus'], 'Invalid value for --status'],
    [['show'], "missing required argument 'traceId'"],
    [['show', 'a', 'b'], 'too many arguments'],
    [['list', '--tenant', '../other'], 'Invalid tenant id'],
  ])('bad usage %j → exit 2, one error line, a hint, no stack', async (args, message) => {
    const r = await retrace(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).toMatch(/\n {2}→ .+/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
  });

  it('a store that is not a retrace store: exit 3, and --debug adds the stack', async () => {
    const notAStore = join(tmp.dir, 'notes.txt');
    writeFileSync(notAStore, 'hello, this is not SQLite at all');
    const r = await retrace(['list', '--store', `sqlite:${notAStore}`], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('is not a retrace store');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const d = await retrace(['list', '--store', `sqlite:${notAStore}`, '--debug'], env);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain('NOT_A_RETRACE_STORE');
    expect(d.stderr).toMatch(/^\s+at /m);
  });

  it('an unsupported store URL is a usage error (exit 2)', async () => {
    const r = await retrace(['list', '--store', 'ftp://example.com/x'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: Store URLs starting with "ftp:" are not supported.');
  });

  it('a store that does not exist yet is exit 3 with what to do, and is not created by reading', async () => {
    const r = await retrace(['list'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no retrace store at .*\n.*Record a run first/s);
    expect(existsSync(tmp.url.slice('sqlite:'.length))).toBe(false);
  });

  it('RETRACE_TENANT selects the tenant', async () => {
    const seeded = await openStore(tmp.url);
    await seeded.append('team-b', 'only-b', new TraceBuilder().complete().events);
    await seeded.close();
    const r = await retrace(['list', '--json'], { ...env, RETRACE_TENANT: 'team-a' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ traces: [] });
    const bad = await retrace(['list'], { ...env, RETRACE_TENANT: 'a/b' });
    expect(bad.code).toBe(2);
  });
});
