import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * vitest globalSetup: the HTML report renderer fills in the built page dist/report/report.html (ui/vite.report.config.ts).
 * `npm test` builds it before vitest; the fast tier and single-file runs build that one page here when it is missing.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  if (existsSync(join(root, 'dist', 'report', 'report.html'))) return;
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'ui/vite.report.config.ts'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
