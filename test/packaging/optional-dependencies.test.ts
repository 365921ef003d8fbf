import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionalDependencyMissingError } from '../../src/errors.js';
import {
  installCommandFor,
  isMissingPackage,
  loadOptional,
  OPTIONAL_DEPENDENCIES,
} from '../../src/optional-dependencies.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-store.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, ROOT } from '../cli/cli-harness.js';
import { TraceBuilder } from '../helpers/trace-builder.js';

/**
 * The KurrentDB client, the AWS S3 SDK and msw are optional peer dependencies. These tests take them away for real:
 * a project folder holding agent-retrace as `npm pack` packs it, and every installed package except those three
 * (linked from this checkout's node_modules), so Node's own resolver fails the way it does in a user's project.
 */
const run = promisify(execFile);
const OPTIONAL = Object.keys(OPTIONAL_DEPENDENCIES);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  dependencies: Record<string, string>;
};

describe('optional dependencies: declared once', () => {
  it('are optional peer dependencies in package.json with the ranges the install hint gives', () => {
    for (const [name, { range }] of Object.entries(OPTIONAL_DEPENDENCIES)) {
      expect(pkg.peerDependencies[name], name).toBe(range);
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.dependencies[name], name).toBeUndefined();
    }
  });

  it('tells a missing package from a package that misses one of its own dependencies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-optional-'));
    // Node's own resolver errors, from a plain node process (vitest resolves imports itself)
    const nodeImportError = async (specifier: string): Promise<{ code: string; message: string }> => {
      const file = join(dir, `${specifier.replace(/\W/g, '_')}.mjs`);
      writeFileSync(file, `import '${specifier}';\n`);
      const { stdout } = await run(process.execPath, [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(file)}).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`,
      ]);
      return JSON.parse(stdout) as { code: string; message: string };
    };
    try {
      const missing = await nodeImportError('@kurrent/kurrentdb-client');
      expect(missing.code).toBe('ERR_MODULE_NOT_FOUND');
      expect(isMissingPackage(missing, '@kurrent/kurrentdb-client')).toBe(true);
      expect(isMissingPackage(missing, '@aws-sdk/client-s3')).toBe(false);
      const wrapped = await loadOptional(['@kurrent/kurrentdb-client'], () => Promise.reject(missing)).catch(
        (e: unknown) => e,
      );
      expect(wrapped).toBeInstanceOf(OptionalDependencyMissingError);
      expect(wrapped).toMatchObject({
        code: 'OPTIONAL_DEPENDENCY_MISSING',
        packageName: '@kurrent/kurrentdb-client',
        installCommand: 'npm install @kurrent/kurrentdb-client@~1.3.1',
      });
      // a broken install names the other package: passed through as it is
      const other = await nodeImportError('some-package-retrace-never-heard-of');
      const passed = await loadOptional(['@kurrent/kurrentdb-client'], () => Promise.reject(other)).catch(
        (e: unknown) => e,
      );
      expect(passed).toBe(other);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('optional dependencies: a project without them', () => {
  let project = '';
  beforeAll(async () => {
    await ensureBuilt();
    project = mkdtempSync(join(tmpdir(), 'retrace-no-optional-'));
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const tarball = join(project, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
    const nm = join(project, 'node_modules');
    const own = join(nm, 'agent-retrace');
    mkdirSync(own, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', own, '--strip-components=1']);
    // every installed package but the optional ones (scoped folders entry by entry)
    const source = join(ROOT, 'node_modules');
    for (const entry of readdirSync(source)) {
      if (entry.startsWith('.') || entry === 'agent-retrace') continue;
      if (entry.startsWith('@')) {
        mkdirSync(join(nm, entry), { recursive: true });
        for (const sub of readdirSync(join(source, entry))) {
          if (!OPTIONAL.includes(`${entry}/${sub}`)) symlinkSync(join(source, entry, sub), join(nm, entry, sub));
        }
      } else if (!OPTIONAL.includes(entry)) symlinkSync(join(source, entry), join(nm, entry));
    }
    writeFileSync(join(project, 'package.json'), '{"name":"user-project","private":true,"type":"module"}');
  }, BUILD_TIMEOUT_MS);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const cli = async (args: string[]) => {
    const bin = join(project, 'node_modules', 'agent-retrace', 'bin', 'retrace.js');
    return run(process.execPath, [bin, ...args], { cwd: project }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
  };

  it('the embedded store still works', async () => {
    const path = join(project, 'x.db');
    const store = new SqliteEventStore(path);
    await store.append('default', 'tr-kept', new TraceBuilder('kept').complete().events);
    await store.close();
    const r = await cli(['list', '--store', `sqlite:${path}`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tr-kept');
  });

  it('kurrentdb:// says which package to install, with the exact npm install line (exit 3)', async () => {
    const r = await cli(['list', '--store', 'kurrentdb://127.0.0.1:2113?tls=false']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('needs the package @kurrent/kurrentdb-client, which is not installed');
    expect(r.stderr).toContain(installCommandFor('@kurrent/kurrentdb-client'));
  });

  it('s3:// and retrace archive say the same for the AWS SDK', async () => {
    const r = await cli(['list', '--store', 's3://bucket/prefix?endpoint=http://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(installCommandFor('@aws-sdk/client-s3'));
    const a = await cli([
      'archive',
      'tr_x',
      '--to',
      's3://bucket/prefix',
      '--store',
      `sqlite:${join(project, 'x.db')}`,
    ]);
    expect(a.code).toBe(3);
    expect(a.stderr).toContain(installCommandFor('@aws-sdk/client-s3'));
  });

  it('agent-retrace/msw rejects with OptionalDependencyMissingError naming msw', async () => {
    writeFileSync(
      join(project, 'uses-msw.mjs'),
      `import { handlersFromTrace } from 'agent-retrace/msw';
try { await handlersFromTrace([]); console.log('no error'); }
catch (err) { console.log(JSON.stringify({ code: err.code, hint: err.hint })); }
`,
    );
    const { stdout } = await run(process.execPath, [join(project, 'uses-msw.mjs')], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      code: 'OPTIONAL_DEPENDENCY_MISSING',
      hint: `Install it next to agent-retrace: ${installCommandFor('msw')}`,
    });
  });
});
