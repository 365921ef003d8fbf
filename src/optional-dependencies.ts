import { OptionalDependencyMissingError } from './errors.js';

/**
 * Packages agent-retrace uses only for one feature each. They are optional peer dependencies in package.json (a test,
 * test/packaging/optional-dependencies.test.ts, keeps the ranges here and there equal), so `npm install agent-retrace`
 * does not bring them; the feature loads its package on first use and says how to install it when it is missing.
 */
export const OPTIONAL_DEPENDENCIES = {
  '@kurrent/kurrentdb-client': { range: '~1.3.1', feature: 'The KurrentDB store (kurrentdb:// URLs)' },
  '@aws-sdk/client-s3': { range: '3.1169.0', feature: 'The S3 archive (s3:// URLs, retrace archive/restore)' },
  msw: { range: '^2.15.0', feature: 'agent-retrace/msw (handlersFromTrace)' },
} as const satisfies Record<string, { range: string; feature: string }>;

export type OptionalDependencyName = keyof typeof OPTIONAL_DEPENDENCIES;

/** The exact command that installs `name` in a range this version of agent-retrace is tested with. */
export function installCommandFor(name: OptionalDependencyName): string {
  return `npm install ${name}@${OPTIONAL_DEPENDENCIES[name].range}`;
}

/**
 * True when `err` says that the package `name` itself cannot be resolved. A package that is installed but misses one
 * of its own dependencies names that other package, so a broken install is reported as it is, not as "not installed".
 */
export function isMissingPackage(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return false;
  const message = typeof e.message === 'string' ? e.message : '';
  return message.includes(`Cannot find package '${name}'`) || message.includes(`Cannot find module '${name}'`);
}

/**
 * Runs `load` (a dynamic import of code that imports `names`) and turns "one of these packages is not installed" into
 * an OptionalDependencyMissingError with the install line; any other failure passes through unchanged.
 */
export async function loadOptional<T>(names: readonly OptionalDependencyName[], load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    for (const name of names) {
      if (isMissingPackage(err, name)) {
        throw new OptionalDependencyMissingError(name, OPTIONAL_DEPENDENCIES[name].feature, installCommandFor(name), {
          cause: err,
        });
      }
    }
    throw err;
  }
}
