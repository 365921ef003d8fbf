import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SandboxStartError } from '../errors.js';
import { loadEsbuild, OWN_NODE_MODULES, PACKAGE_ROOT, writeContentAddressed } from './runtime-bundle.js';

/**
 * TypeScript agents are transpiled here, in the parent, with esbuild — not by a loader inside the sandbox, which
 * would need worker threads and child processes (esbuild's service) and so a weaker permission model than a
 * JavaScript agent gets. The agent's own modules are bundled into one ESM file (its packages stay external and load
 * from its node_modules, linked next to the bundle); each module keeps its own `import.meta.url`, `__dirname` and
 * `require`, so code that reads files relative to itself behaves as under tsx. The bundle is cached by content hash
 * (the sources and the node_modules it links to), so an unchanged agent is not transpiled twice — not in one process
 * (a memo of the sources' size and mtime), nor across processes (a manifest next to the cached bundle lists the
 * sources with their sha256: when every one still hashes the same, the bundle is used without running esbuild).
 */

export function isTypeScript(file: string): boolean {
  return /\.(c|m)?tsx?$/.test(file);
}

const LOADERS: Record<string, string> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/** Rewrites a module's notion of where it lives to its original location (literals), before bundling. */
function pinLocation(source: string, file: string): string {
  let out = source
    .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(file).href))
    .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(file))
    .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(file)));
  // CommonJS globals a module uses without declaring them itself (esbuild renames per-module top-level bindings)
  const preamble: string[] = [];
  for (const [name, value] of [
    ['__filename', file],
    ['__dirname', dirname(file)],
  ] as const) {
    const used = new RegExp(`\\b${name}\\b`).test(out);
    const declared = new RegExp(`\\b(const|let|var|function)\\s+${name}\\b`).test(out);
    if (used && !declared) preamble.push(`const ${name} = ${JSON.stringify(value)};`);
  }
  if (preamble.length > 0) out = `${preamble.join(' ')}\n${out}`;
  return out;
}

/** Built JavaScript of a package: anything under a node_modules folder, or agent-retrace's own dist (by path). */
function isBuiltPackageCode(file: string): boolean {
  if (!/\.(c|m)?js$/.test(file)) return false;
  if (file.split(sep).includes('node_modules')) return true;
  const rel = relative(join(PACKAGE_ROOT, 'dist'), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

type Manifest = { name?: unknown; exports?: unknown } | null;

/**
 * The file a package's import of itself by name (`name` or `name/sub`) means, through its `exports` map. `manifests`
 * caches each folder's package.json for one transpile (null: none there; an unreadable one ends the walk): every bare
 * import asks.
 */
function selfReference(specifier: string, fromDir: string, manifests: Map<string, Manifest>): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    let pkg = manifests.get(dir);
    if (pkg === undefined) {
      const manifest = join(dir, 'package.json');
      try {
        pkg = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest) : null;
      } catch {
        pkg = { name: undefined };
      }
      manifests.set(dir, pkg);
    }
    if (pkg !== null) {
      if (typeof pkg.name !== 'string' || (specifier !== pkg.name && !specifier.startsWith(`${pkg.name}/`)))
        return undefined;
      const subpath = `.${specifier.slice(pkg.name.length)}`;
      const exportsMap = typeof pkg.exports === 'string' ? { '.': pkg.exports } : pkg.exports;
      if (!exportsMap || typeof exportsMap !== 'object') return undefined;
      const entry = (exportsMap as Record<string, unknown>)[subpath];
      const conditions = entry as Record<string, unknown> | undefined;
      const file = typeof entry === 'string' ? entry : (conditions?.import ?? conditions?.node ?? conditions?.default);
      return typeof file === 'string' ? resolve(dir, file) : undefined;
    }
    if (dirname(dir) === dir || basename(dir) === 'node_modules') return undefined;
  }
}

export interface Transpiled {
  /** the file the sandbox imports instead of the agent's entry */
  file: string;
  /** folders the sandbox must be allowed to read for it */
  readPaths: string[];
}

/** The sources a transpile read, with their size and mtime: unchanged sources reuse it (many replays per process). */
const memo = new Map<string, { sources: Array<{ path: string; size: number; mtimeMs: number }>; result: Transpiled }>();

function unchanged(sources: ReadonlyArray<{ path: string; size: number; mtimeMs: number }>): boolean {
  return sources.every((s) => {
    try {
      const st = statSync(s.path);
      return st.size === s.size && st.mtimeMs === s.mtimeMs;
    } catch {
      return false;
    }
  });
}

const sha256 = (text: Buffer | string): string => createHash('sha256').update(text).digest('hex');

interface TranspileManifest {
  sources: Array<{ path: string; sha256: string }>;
  result: Transpiled;
}

/** this module's own code: a manifest written by another version of the transpile is not this one's */
let ownVersion: string | undefined;
function transpilerVersion(): string {
  if (ownVersion === undefined) {
    try {
      ownVersion = sha256(readFileSync(fileURLToPath(import.meta.url)));
    } catch {
      ownVersion = String(Date.now()); // unknown: never match an older manifest
    }
  }
  return ownVersion;
}

/** Where the manifest of an entry's last transpile lives (one per entry, node_modules and transpiler version). */
function manifestPath(key: string): string | undefined {
  if (!OWN_NODE_MODULES) return undefined;
  const id = sha256(`${transpilerVersion()}\0${key}`).slice(0, 24);
  return join(OWN_NODE_MODULES, '.cache', 'agent-retrace', `agent-manifest-${id}.json`);
}

/** The bundle an earlier process made from sources that still have the same content, if any. */
function fromManifest(key: string): Transpiled | undefined {
  const path = manifestPath(key);
  if (!path || !existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as TranspileManifest;
    if (!Array.isArray(m.sources) || m.sources.length === 0 || typeof m.result?.file !== 'string') return undefined;
    if (!existsSync(m.result.file)) return undefined;
    for (const source of m.sources) if (sha256(readFileSync(source.path)) !== source.sha256) return undefined;
    return { file: m.result.file, readPaths: [...m.result.readPaths] };
  } catch {
    return undefined; // unreadable, half-written or a source gone: transpile again
  }
}

function writeManifest(key: string, sources: readonly string[], result: Transpiled): void {
  const path = manifestPath(key);
  if (!path) return;
  try {
    const manifest: TranspileManifest = {
      sources: sources.map((p) => ({ path: p, sha256: sha256(readFileSync(p)) })),
      result,
    };
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, path);
  } catch {
    /* best effort: the next process transpiles again */
  }
}

/** Transpiles a TypeScript entry (and the local modules it imports) for the sandbox; returns where it is. */
export async function transpileAgent(entry: string, nodeModules: string | undefined): Promise<Transpiled> {
  const key = `${entry}\0${nodeModules ?? ''}`;
  const known = memo.get(key);
  if (known && unchanged(known.sources) && existsSync(known.result.file)) return known.result;
  const cached = fromManifest(key);
  if (cached) return cached;
  const esbuild = loadEsbuild();
  if (!esbuild)
    throw new SandboxStartError(
      `the agent ${entry} is TypeScript, and transpiling it needs esbuild, which is not installed`,
      '',
    );
  let out: Awaited<ReturnType<NonNullable<ReturnType<typeof loadEsbuild>>['build']>>;
  try {
    out = await esbuild.build({
      entryPoints: { agent: entry },
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outdir: '/retrace-agent',
      outExtension: { '.js': '.mjs' },
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      metafile: true,
      // CommonJS-style code in the agent keeps a working require, resolved from the entry's folder
      banner: {
        js: `import { createRequire as __retraceCreateRequire } from 'node:module'; const __retraceRequire = __retraceCreateRequire(${JSON.stringify(pathToFileURL(entry).href)});`,
      },
      define: { require: '__retraceRequire' },
      plugins: [
        {
          // a package imported by path (a built agent-retrace, a workspace package's dist) is a package too: bundled,
          // its lazily loaded backends' imports would be hoisted to the bundle's top and load at start
          name: 'retrace-external-built-code',
          setup(build: {
            onResolve(
              o: { filter: RegExp },
              cb: (a: { path: string; resolveDir: string }) => { path: string; external: boolean } | undefined,
            ): void;
          }) {
            // the package importing itself by name (an agent inside its own package, a monorepo): resolved here
            // through its exports, since the bundle lives in a cache folder outside that package's scope
            const manifests = new Map<string, Manifest>();
            build.onResolve({ filter: /^[@a-z0-9]/i }, (args) => {
              if (args.path.startsWith('node:')) return undefined;
              const target = selfReference(args.path, args.resolveDir, manifests);
              return target ? { path: target, external: true } : undefined;
            });
            build.onResolve({ filter: /^(\.{1,2}\/|\/|file:)/ }, (args) => {
              const target = args.path.startsWith('file:')
                ? fileURLToPath(args.path)
                : resolve(args.resolveDir, args.path);
              return isBuiltPackageCode(target) ? { path: target, external: true } : undefined;
            });
          },
        },
        {
          name: 'retrace-pin-location',
          setup(build: {
            onLoad(
              o: { filter: RegExp },
              cb: (a: { path: string }) => { contents: string; loader: string } | undefined,
            ): void;
          }) {
            build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, (args) => {
              if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
              const loader = LOADERS[extname(args.path)];
              if (!loader) return undefined;
              return { contents: pinLocation(readFileSync(args.path, 'utf8'), args.path), loader };
            });
          },
        },
      ],
    });
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number } }> }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new SandboxStartError(
      `could not transpile the TypeScript agent ${entry}: ${first ? first.text + where : String(err)}`,
      '',
      { cause: err },
    );
  }
  const files = (out.outputFiles ?? []).map((f) => ({ path: f.path, text: f.text }));
  if (!OWN_NODE_MODULES) throw new SandboxStartError('no node_modules folder to cache the transpiled agent in', '');
  // the link target is part of the content: the same sources against another node_modules are another bundle
  const dir = writeContentAddressed(
    'agent',
    [...files, { path: '/retrace-agent/.node_modules-target', text: nodeModules ?? '' }],
    '/retrace-agent/',
  );
  const link = join(dir, 'node_modules');
  if (nodeModules && !existsSync(link)) {
    try {
      mkdirSync(dir, { recursive: true });
      symlinkSync(nodeModules, link, 'junction');
    } catch {
      /* another process linked it first */
    }
  }
  const result = { file: join(dir, 'agent.mjs'), readPaths: [dir] };
  const inputs = Object.keys(out.metafile?.inputs ?? {}).map((p) => resolve(p));
  const sources = inputs.flatMap((path) => {
    try {
      const st = statSync(path);
      return [{ path, size: st.size, mtimeMs: st.mtimeMs }];
    } catch {
      return [];
    }
  });
  if (sources.length > 0) {
    memo.set(key, { sources, result });
    writeManifest(
      key,
      sources.map((s) => s.path),
      result,
    );
  }
  return result;
}
