import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutProcessControlEnv } from '../../src/events/untrusted-env.js';
import { agentEnv, sandboxProcessEnv } from '../../src/replay/sandbox/child-env.js';
import { expandReadPolicy, storeFiles } from '../../src/replay/sandbox/read-policy.js';
import type { StoredEvent } from '../../src/events/envelope.js';

const root = mkdtempSync(join(tmpdir(), 'retrace-read-policy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(): string {
  const dir = join(root, `p${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
  mkdirSync(join(dir, '.git'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'agent.mjs'), '');
  writeFileSync(join(dir, '.env'), 'K=1');
  writeFileSync(join(dir, 'src', 'a.mjs'), '');
  writeFileSync(join(dir, 'src', 'deep', '.env.production'), 'K=2');
  writeFileSync(join(dir, 'src', 'deep', 'b.mjs'), '');
  writeFileSync(join(dir, 'node_modules', 'pkg', '.env'), 'a dependency file, code');
  writeFileSync(join(dir, 'data', 'store.db'), '');
  return dir;
}

describe('read policy: code, not data', () => {
  it('a folder with nothing denied is granted whole', () => {
    const dir = tree();
    expect(expandReadPolicy({ roots: [{ path: join(dir, 'node_modules'), scan: true }], deny: [] })).toEqual([
      join(dir, 'node_modules'),
    ]);
  });

  it('the agent folder is granted around .env*, .git and the store file, at any depth; node_modules stays whole', () => {
    const dir = tree();
    const granted = expandReadPolicy({
      roots: [{ path: dir, scan: true }],
      deny: storeFiles(`sqlite:${join(dir, 'data', 'store.db')}`),
    });
    expect(granted).toEqual(
      expect.arrayContaining([
        join(dir, 'agent.mjs'),
        join(dir, 'node_modules'),
        join(dir, 'src', 'a.mjs'),
        join(dir, 'src', 'deep', 'b.mjs'),
      ]),
    );
    for (const denied of [
      dir,
      join(dir, '.env'),
      join(dir, '.git'),
      join(dir, 'src'),
      join(dir, 'src', 'deep', '.env.production'),
      join(dir, 'data', 'store.db'),
    ])
      expect(granted).not.toContain(denied);
  });

  it('a folder that is not scanned still loses the exact denied paths it holds', () => {
    const dir = tree();
    const granted = expandReadPolicy({
      roots: [{ path: join(dir, 'data'), scan: false }],
      deny: storeFiles(join(dir, 'data', 'store.db')),
    });
    expect(granted).toEqual([]);
  });

  it('a symlink to a denied file is not granted', () => {
    const dir = tree();
    symlinkSync(join(dir, '.env'), join(dir, 'src', 'config'));
    const granted = expandReadPolicy({ roots: [{ path: join(dir, 'src'), scan: true }], deny: [] });
    expect(granted).not.toContain(join(dir, 'src', 'config'));
    expect(granted).toContain(join(dir, 'src', 'a.mjs'));
  });
});

describe('environments', () => {
  it("the sandbox process environment is fixed: nothing from the host's", () => {
    expect(Object.keys(sandboxProcessEnv('/tmp/x')).sort()).toEqual(
      process.platform === 'win32' ? expect.any(Array) : ['HOME', 'TEMP', 'TMP', 'TMPDIR'],
    );
  });

  it("the agent's view drops names that configure a process and says which", () => {
    const r = agentEnv(
      { OPENAI_API_KEY: 'placeholder' },
      { NODE_OPTIONS: '--import=x', LD_PRELOAD: '/x.so', TZ: 'UTC' },
      { node_path: '/y' },
    );
    expect(r.env).toEqual({ OPENAI_API_KEY: 'placeholder', TZ: 'UTC' });
    expect(r.dropped).toEqual(['LD_PRELOAD', 'NODE_OPTIONS', 'node_path']);
  });

  it('import drops them from agent_started and leaves other events alone', () => {
    const started = {
      type: 'agent_started',
      payload: { environment: { env: { NODE_OPTIONS: '-r x', OPENAI_BASE_URL: 'http://h/v1' } } },
    } as unknown as StoredEvent;
    const r = withoutProcessControlEnv(started);
    expect(r.dropped).toEqual(['NODE_OPTIONS']);
    expect((r.event.payload as { environment: { env: unknown } }).environment.env).toEqual({
      OPENAI_BASE_URL: 'http://h/v1',
    });
    const other = { type: 'decision_made', payload: {} } as unknown as StoredEvent;
    expect(withoutProcessControlEnv(other).event).toBe(other);
  });
});
