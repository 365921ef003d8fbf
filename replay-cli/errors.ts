import { CommanderError } from 'commander';
import { ValidationError, isRetraceError, type ExitCategory } from '../src/errors.js';

/**
 * The CLI's one error path: every failure ends up in `handleError`, which prints what went wrong and what
 * to do (`error: …` / `  → …`), a stack trace only with --debug, and returns the exit code. Only main.ts exits.
 *
 * Exit codes (documented in `retrace --help` and README):
 *   0  success / identical / equivalent
 *   1  divergence or verification failure
 *   2  usage or input error (bad flag, bad id, unknown trace, malformed file)
 *   3  store or environment failure (store unreachable or corrupt, file not writable, unexpected internal error)
 */
export const EXIT = { ok: 0, divergence: 1, input: 2, environment: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const EXIT_OF_CATEGORY: Record<ExitCategory, ExitCode> = {
  divergence: EXIT.divergence,
  input: EXIT.input,
  environment: EXIT.environment,
};

/** A flag or argument the user got wrong; `command` names where to look in --help. */
export class UsageError extends ValidationError {
  override readonly code = 'CLI_USAGE';
}

// the file errors live in the library (src/transfer reads and writes trace files); re-exported for the commands
export { InputFileError, OutputFileError } from '../src/errors.js';

interface ErrorSink {
  write(text: string): unknown;
}

/** the command named on the command line, for "see `retrace <cmd> --help`" hints */
function commandOf(argv: readonly string[], known: readonly string[]): string | undefined {
  return argv.find((a) => known.includes(a));
}

function causeChain(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}

export interface HandleErrorOptions {
  debug: boolean;
  argv: readonly string[];
  commands: readonly string[];
}

/** Prints the error for a person and returns the exit code. Never throws. */
export function handleError(err: unknown, stderr: ErrorSink, options: HandleErrorOptions): ExitCode {
  if (err instanceof CommanderError) {
    // --help and --version already printed their text; `retrace help` exits 0 the same way
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    if (err.code === 'commander.help') {
      if (err.exitCode === 0) return EXIT.ok;
      stderr.write('error: no command given\n  → Pick one of the commands listed above, e.g. `retrace list`.\n');
      return EXIT.input;
    }
    const cmd = commandOf(options.argv, options.commands);
    const message = err.message.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ');
    stderr.write(`error: ${message}\n  → Run \`retrace ${cmd ? `${cmd} ` : ''}--help\` for the usage and examples.\n`);
    if (options.debug) stderr.write(`${causeChain(err)}\n`);
    return EXIT.input;
  }
  if (isRetraceError(err)) {
    stderr.write(`error: ${err.message}\n`);
    if (err.hint) stderr.write(`  → ${err.hint}\n`);
    if (options.debug) stderr.write(`[${err.code}]\n${causeChain(err)}\n`);
    return EXIT_OF_CATEGORY[err.exitCategory];
  }
  // Not one of ours: a bug or an environment failure nobody translated. Exit 3 rather than 1, because CI reads 1 as
  // "the agent diverged", which would be a lie.
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`error: unexpected failure: ${message}\n`);
  stderr.write(
    options.debug
      ? `${causeChain(err)}\n`
      : '  → Re-run with --debug for the stack trace; if it persists, report it together with that output.\n',
  );
  return EXIT.environment;
}
