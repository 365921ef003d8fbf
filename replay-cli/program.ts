import { Command, Option } from 'commander';
import { registerArchive } from './commands/archive.js';
import { registerCi } from './commands/ci.js';
import { registerCollect } from './commands/collect.js';
import { registerDiff } from './commands/diff.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerList } from './commands/list.js';
import { registerRecord } from './commands/record.js';
import { registerReplay } from './commands/replay.js';
import { registerScan } from './commands/scan.js';
import { registerShow } from './commands/show.js';
import { registerStub } from './commands/stub.js';
import type { Bind, RegisterCommand } from './commands/types.js';
import { registerUi } from './commands/ui.js';
import { registerVerify } from './commands/verify.js';
import { registerVersion } from './commands/version.js';
import { CommandContext, type CliIo } from './context.js';
import { EXIT, handleError } from './errors.js';
import { parseGlobalOptions } from './options.js';
import { packageVersion } from './version.js';

/**
 * Builds the commander program and runs it. `runCli` never exits and never throws: it returns the exit code, which
 * main.ts passes to process.exit. That keeps the CLI testable in-process and puts the exit in exactly one place.
 */

/** One line per command file; a command is listed here only once it works end to end. */
const COMMANDS: readonly RegisterCommand[] = [
  registerRecord,
  registerList,
  registerShow,
  registerReplay,
  registerDiff,
  registerExport,
  registerImport,
  registerVerify,
  registerArchive,
  registerCi,
  registerScan,
  registerStub,
  registerVersion,
  registerUi,
  registerCollect,
];

const HELP_FOOTER = `
Store URLs (--store or RETRACE_STORE):
  sqlite:PATH                 embedded store, the default (sqlite:.retrace/retrace.db)
  kurrentdb://HOST:2113       KurrentDB
  s3://BUCKET/PREFIX          S3 archive (read-only)

Exit codes:
  0  success (identical / equivalent); \`record\` passes its command's exit code through
  1  divergence or verification failure
  2  usage or input error: bad flag, bad or unknown trace id, malformed file
  3  store or environment failure

Examples:
  $ retrace record -- node agent.js
  $ retrace list --status failed --since 2h
  $ retrace show tr_0m1abc2de_4f1c2a9b7d3e8f60
  $ retrace replay tr_0m1abc2de_4f1c2a9b7d3e8f60 --fast --report replay.md
  $ retrace diff tr_recorded tr_replayed --format html --out report.html
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 --out golden/refund.ndjson
  $ retrace import golden/refund.ndjson --store sqlite:/tmp/ci.db
  $ retrace verify
  $ retrace scan --all
  $ retrace ci goldens/ --agent src/agent.ts#supportAgent --junit reports/retrace.xml --summary reports/retrace.md
  $ retrace ci 'goldens/**/*.ndjson' --shard 2/4 --concurrency 2 --fast
  $ retrace archive --older-than 30d --to s3://acme-traces/prod --prune
  $ retrace stub --port 8787
  $ retrace ui --open`;

export function buildProgram(io: CliIo, onExitCode: (code: number) => void): Command {
  const program = new Command('retrace');
  program
    .description(
      'A flight recorder and time-travel debugger for AI agents: record runs, inspect them, verify them, replay them in CI.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(new Option('--store <url>', 'event store URL').env('RETRACE_STORE'))
    .addOption(new Option('--tenant <id>', 'tenant namespace').env('RETRACE_TENANT').default('default'))
    .option('--json', 'print machine-readable JSON instead of tables')
    .option('--debug', 'print stack traces with errors')
    // errors become CommanderErrors that handleError prints in the one format; commander itself prints nothing
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', HELP_FOOTER);

  const bind: Bind =
    (action) =>
    async (...params) => {
      // commander passes (...arguments, options, command); the command knows its arguments and options itself
      const command = params[params.length - 1] as Command;
      const ctx = new CommandContext(parseGlobalOptions(command.optsWithGlobals()), io);
      onExitCode(await action(ctx, { args: command.processedArgs as unknown[], options: command.opts() }));
    };
  for (const register of COMMANDS) register(program, bind);
  return program;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return handleError(err, io.stderr, {
      // scanned from argv because the error may come before (or from) option parsing
      debug: argv.includes('--debug') || process.env.RETRACE_DEBUG === '1',
      argv,
      commands: program.commands.map((c) => c.name()),
    });
  }
}
