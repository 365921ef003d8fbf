import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { StoreError, ValidationError } from '../../src/errors.js';
import { assertTraceId, newTraceId } from '../../src/events/ids.js';
import { UsageError } from '../errors.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
import type { RegisterCommand } from './types.js';

const RecordInputSchema = z.object({
  command: z.array(z.string()).min(1, 'give the command to run after --'),
  agent: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  traceId: z.string().optional(),
});

/** The zero-code recorder (src/recorder/register.ts), as built next to this file in dist/. */
const REGISTER_URL = new URL('../../src/recorder/register.js', import.meta.url);

/** Runs the command with the recorder preloaded; resolves with its exit code (128 + signal number when killed). */
function runRecorded(command: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file = '', ...args] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env });
    // Ctrl-C reaches the child through the terminal's process group; we stay alive to report the trace id
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    const done = (): void => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(
        err.code === 'ENOENT'
          ? new UsageError(
              `Cannot run "${file}": command not found.`,
              'Check the command after --, e.g. `retrace record -- node agent.js`.',
              'command',
              { cause: err },
            )
          : err,
      );
    });
    child.on('exit', (code, signal) => {
      done();
      const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
      resolve(code ?? 128 + (signal ? (signals[signal] ?? 0) : 0));
    });
  });
}

export const registerRecord: RegisterCommand = (program, bind) => {
  program
    .command('record')
    .description('run a Node.js command with the recorder preloaded, print its trace id, pass its exit code through')
    .argument('<command...>', 'the command to record, after -- (node, npm run, npx tsx, …)')
    .option('--agent <name>', 'agent name stored in the trace (default: the script file name)')
    .option('--trace-id <id>', 'use this trace id instead of a fresh one')
    .addHelpText(
      'after',
      `
The recorder loads through NODE_OPTIONS (--import), so it records Node.js processes. The trace id is printed on
stderr (on stdout as JSON with --json), and retrace exits with the command's own exit code.

Examples:
  $ retrace record -- node agent.js "Where is my order?"
  $ retrace record --agent support-bot --trace-id golden-refund -- npx tsx src/agent.ts`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          RecordInputSchema,
          { command: args[0], agent: options.agent, traceId: options.traceId },
          'record',
        );
        const traceId = input.traceId ?? newTraceId();
        assertTraceId(traceId);
        if (!existsSync(fileURLToPath(REGISTER_URL))) {
          throw new StoreError(
            `The recorder is not built (${fileURLToPath(REGISTER_URL)} is missing).`,
            'Run `npm run build` first.',
          );
        }
        await ctx.withStore(async (store) => {
          if (await store.exists(ctx.tenant, traceId)) {
            throw new ValidationError(
              `Trace "${traceId}" already exists in tenant "${ctx.tenant}".`,
              'Pick another --trace-id, or omit it to get a fresh one.',
              'traceId',
            );
          }
        });
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${REGISTER_URL.href}`.trim(),
          RETRACE_TRACE_ID: traceId,
          RETRACE_RECORD_CLI: '1',
          RETRACE_TENANT: ctx.tenant,
          ...(ctx.globals.store !== undefined ? { RETRACE_STORE: ctx.globals.store } : {}),
          ...(input.agent !== undefined ? { RETRACE_AGENT: input.agent } : {}),
        };
        const exitCode = await runRecorded(input.command, env);
        const summary = await ctx.withStore((store) => store.summary(ctx.tenant, traceId));
        if (!summary) {
          throw new StoreError(
            `"${input.command.join(' ')}" exited with ${exitCode} and recorded no trace.`,
            'retrace record records Node.js processes (node, npm run, npx tsx …): NODE_OPTIONS must reach the process. Check the output above for a recorder error.',
          );
        }
        if (ctx.json) {
          await ctx.out.json({
            traceId,
            tenantId: ctx.tenant,
            exitCode,
            status: summary.status,
            events: summary.eventCount,
          });
        } else {
          await ctx.err.line(
            `retrace: recorded trace ${traceId} (${summary.status}, ${formatInt(summary.eventCount)} events); exit code ${exitCode}`,
          );
          await ctx.err.line(`  → retrace show ${traceId}`);
        }
        return exitCode;
      }),
    );
};
