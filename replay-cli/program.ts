import { Command, Option } from 'commander';
import type { CommandContext, CliIo } from './context.js';
import type { Bind, RegisterCommand } from './commands/types.js';
import { packageVersion } from './version.js';

/**
 * Builds the commander program and runs it. `runCli` never exits and never throws: it returns the exit code, which
 * main.ts passes to process.exit. That keeps the CLI testable in-process and puts the exit in exactly one place.
 *
 * Start-up cost is paid per command: a command file (and the library it pulls in: zod schemas, stores, the replay
 * engine) is imported only when argv names that command; help and unknown commands load them all, `--version` none.
 */

type Loader = () => Promise<RegisterCommand>;

/** One line per command file; a command is listed here only once it works end to end. */
const COMMANDS: ReadonlyArray<readonly [name: string, load: Loader]> = [
  ['record', async () => (await import('./commands/record.js')).registerRecord],
  ['list', async () => (await import('./commands/list.js')).registerList],
  ['show', async () => (await import('./commands/show.js')).registerShow],
  ['replay', async () => (await import('./commands/replay.js')).registerReplay],
  ['diff', async () => (await import('./commands/diff.js')).registerDiff],
  ['export', async () => (await import('./commands/export.js')).registerExport],
  ['import', async () => (await import('./commands/import.js')).registerImport],
  ['verify', async () => (await import('./commands/verify.js')).registerVerify],
  ['archive', async () => (await import('./commands/archive.js')).registerArchive],
  ['ci', async () => (await import('./commands/ci.js')).registerCi],
  ['scan', async () => (await import('./commands/scan.js')).registerScan],
  ['stub', async () => (await import('./commands/stub.js')).registerStub],
  ['version', async () => (await import('./commands/version.js')).registerVersion],
  ['ui', async () => (await import('./commands/ui.js')).registerUi],
  ['collect', async () => (await import('./commands/collect.js')).registerCollect],
];
const COMMAND_NAMES = COMMANDS.map(([name]) => name);

/** Global options that take a value (the word after them is not the command). */
const GLOBAL_WITH_VALUE = new Set(['--store', '--tenant']);

/**
 * Which commands argv needs registered: the one it names; none for a bare --version; all of them for help, no
 * command or an unknown one (help lists them, the error suggests the nearest).
 */
export function commandsFor(argv: readonly string[]): readonly string[] {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') break;
    if (GLOBAL_WITH_VALUE.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith('-')) {
      if (word === '-h' || word === '--help') return COMMAND_NAMES;
      if (word === '-V' || word === '--version') return [];
      continue;
    }
    if (word === 'help') {
      const next = argv[i + 1];
      return next !== undefined && COMMAND_NAMES.includes(next) ? [next] : COMMAND_NAMES;
    }
    return COMMAND_NAMES.includes(word) ? [word] : COMMAND_NAMES;
  }
  return COMMAND_NAMES;
}

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

export async function buildProgram(
  io: CliIo,
  onExitCode: (code: number) => void,
  commands: readonly string[] = COMMAND_NAMES,
): Promise<Command> {
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
      const [{ CommandContext: Context }, { parseGlobalOptions }] = await Promise.all([
        import('./context.js'),
        import('./options.js'),
      ]);
      const ctx: CommandContext = new Context(parseGlobalOptions(command.optsWithGlobals()), io);
      onExitCode(await action(ctx, { args: command.processedArgs as unknown[], options: command.opts() }));
    };
  const registers = await Promise.all(COMMANDS.filter(([name]) => commands.includes(name)).map(([, load]) => load()));
  for (const register of registers) register(program, bind);
  return program;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  try {
    const program = await buildProgram(
      io,
      (code) => {
        exitCode = code;
      },
      commandsFor(argv),
    );
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    const { handleError } = await import('./errors.js');
    return handleError(err, io.stderr, {
      // scanned from argv because the error may come before (or from) option parsing
      debug: argv.includes('--debug') || process.env.RETRACE_DEBUG === '1',
      argv,
      commands: COMMAND_NAMES,
    });
  }
}
