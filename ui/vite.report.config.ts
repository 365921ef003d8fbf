import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The static diff report page (ui/report.html → dist/report/report.html): the inspector's diff view as ONE file, its
 * script and styles inlined, so `retrace replay --report` writes a page that opens from disk, a CI artifact or offline
 * under a CSP that fetches nothing. src/diff/render/html.ts fills in the report JSON.
 */
function inlineIntoHtml(): Plugin {
  return {
    name: 'retrace-inline-into-html',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = bundle['report.html'];
      if (html?.type !== 'asset') throw new Error('vite.report.config: report.html missing from the bundle');
      let page = String(html.source);
      for (const [file, out] of Object.entries(bundle)) {
        if (out.type === 'chunk') {
          // `</script` cannot appear inside an inline script; `<\/script` means the same in any JS string or regex
          const code = out.code.replace(/<\/script/gi, '<\\/script');
          page = page.replace(
            new RegExp(`<script[^>]*src="/${escapeRe(file)}"[^>]*></script>`),
            () => `<script type="module">${code}</script>`,
          );
          delete bundle[file];
        } else if (file.endsWith('.css')) {
          const css = String(out.source).replace(/<\/style/gi, '<\\/style');
          page = page.replace(new RegExp(`<link[^>]*href="/${escapeRe(file)}"[^>]*>`), () => `<style>${css}</style>`);
          delete bundle[file];
        }
      }
      if (/<script[^>]*\ssrc=|<link[^>]*stylesheet/.test(page)) {
        throw new Error('vite.report.config: the report page still links a file; it must be self-contained');
      }
      html.source = page;
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [inlineIntoHtml()],
  build: {
    outDir: fileURLToPath(new URL('../dist/report', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    cssCodeSplit: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    modulePreload: false,
    rollupOptions: { input: fileURLToPath(new URL('./report.html', import.meta.url)) },
  },
});
