import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The inspector's front end (Preact), built into dist/ui, which `retrace ui` serves. Everything is bundled: the page
 * loads nothing from elsewhere, so it works offline and under the server's strict Content-Security-Policy.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
});
