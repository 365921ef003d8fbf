import { runCli } from './program.js';

/**
 * The `retrace` binary (bin/retrace.js imports the build of this file). The only place that calls process.exit.
 */

// `retrace export … | head` closes the pipe early: that is the reader's choice, not a failure worth a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

// Exit once stdout and stderr have flushed: when they are pipes (macOS) or slow, exiting at once would cut the output.
await Promise.all(
  [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
);
process.exit(code);
