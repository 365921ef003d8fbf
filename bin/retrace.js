#!/usr/bin/env node
// The `retrace` command. The CLI is TypeScript compiled by `npm run build` into dist/; this shim only loads it.
try {
  await import('../dist/replay-cli/main.js');
} catch (err) {
  // a fresh clone that was never built: say so instead of printing a module-resolution stack trace
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('replay-cli')) {
    process.stderr.write(
      'error: retrace is not built yet (dist/replay-cli/main.js is missing).\n  → Run `npm run build` in the agent-retrace folder first.\n',
    );
    process.exitCode = 3;
  } else {
    throw err;
  }
}
