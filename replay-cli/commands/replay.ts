import * as z from 'zod';
import type { DiffReport } from '../../src/diff/index.js';
import { TraceNotFoundError } from '../../src/errors.js';
// the engine itself, not src/replay/index.js: the comparison and the report renderers load while the sandbox runs
import { OnMissPolicySchema } from '../../src/replay/on-miss.js';
import { replayTrace, type ReplayResult } from '../../src/replay/replay.js';
import { openStore } from '../../src/store/open-store.js';
import { DEFAULT_SQLITE_PATH } from '../../src/store/sqlite/sqlite-store.js';
import { writeFileAtomic } from '../files.js';
import { DurationSchema, parseOptions, wholeNumber } from '../options.js';
import type { CommandContext } from '../context.js';
import type { RegisterCommand } from './types.js';

const FORMATS = ['md', 'json', 'html', 'junit'] as const;
type Format = (typeof FORMATS)[number];

const ReplayInputSchema = z.object({
  traceId: z.string(),
  agent: z.string().trim().min(1, 'must be FILE or FILE#EXPORT').optional(),
  until: wholeNumber(0, Number.MAX_SAFE_INTEGER).optional(),
  onMiss: OnMissPolicySchema.default('error'),
  override: z.string().trim().min(1, 'must name a JSON file').optional(),
  fast: z.boolean().default(false),
  prestart: z.boolean().default(true),
  report: z.string().trim().min(1, 'must name a file').optional(),
  format: z.enum(FORMATS).optional(),
  failOnDiff: z.boolean().default(false),
  timeout: DurationSchema.default(60_000),
  memoryMb: wholeNumber(64, 1_048_576).default(512),
  replayStore: z.string().trim().min(1, 'must be a store URL').optional(),
});
type ReplayInput = z.output<typeof ReplayInputSchema>;

async function render(format: Format, report: DiffReport): Promise<string> {
  const { renderHtml, renderJson, renderJunit, renderMarkdown } = await import('../../src/diff/index.js');
  const renderers: Record<Format, (report: DiffReport) => string> = {
    md: (r) => renderMarkdown(r),
    json: (r) => renderJson(r),
    html: (r) => renderHtml(r),
    junit: (r) => renderJunit(r),
  };
  return renderers[format](report);
}

/** The report file renders the replay's one comparison (ReplayResult.diffReport), the same the verdict comes from. */
async function writeReport(result: ReplayResult, format: Format, path: string): Promise<void> {
  const text = await render(format, result.diffReport);
  writeFileAtomic(path, text.endsWith('\n') ? text : `${text}\n`);
}

async function printResult(
  ctx: CommandContext,
  input: ReplayInput,
  result: ReplayResult,
  reportPath: string | undefined,
): Promise<void> {
  if (ctx.json) {
    const { diffReport: _omitted, ...rest } = result;
    await ctx.out.json({ traceId: input.traceId, tenantId: ctx.tenant, ...rest, report: reportPath ?? null });
    return;
  }
  const lines = [
    `replay    ${result.replayTraceId} (of ${input.traceId})`,
    `verdict   ${result.verdict}`,
    // a replay stopped by a request the recording cannot answer says so; the agent's error is what followed from it
    result.misses.some((m) => m.policy === 'error')
      ? `outcome   ${result.outcome}: request not in the recording${result.error ? ` (the agent then ended with ${result.error.name}: ${result.error.message})` : ''}`
      : `outcome   ${result.outcome}${result.error ? ` (${result.error.name}: ${result.error.message})` : ''}`,
  ];
  if (result.firstDivergence) lines.push(`first divergence: ${result.firstDivergence.message}`);
  if (result.misses.length > 0) {
    lines.push(`cache misses: ${result.misses.length} (policy ${input.onMiss})`);
    for (const m of result.misses.slice(0, 5)) lines.push(`  - ${m.kind} #${m.position}: ${m.message}`);
  }
  if (result.refusedConnections.length > 0) lines.push(`refused connections: ${result.refusedConnections.join(', ')}`);
  if (result.wentLive) lines.push('note: the replay went live (real calls were made)');
  if (reportPath) lines.push(`report: ${reportPath}`);
  await ctx.out.line(lines.join('\n'));
}

export const registerReplay: RegisterCommand = (program, bind) => {
  program
    .command('replay')
    .description('re-run a recorded agent in the sandbox, answering from the recording; store the replay and compare')
    .argument('<traceId>', 'the recorded trace to replay')
    .option('--agent <entry>', 'agent code to run instead of the recorded entry: FILE#EXPORT (or FILE)')
    .option('--until <seq>', 'replay up to this event seq, then stop (or continue live with --on-miss live)')
    .option('--on-miss <policy>', 'a request the recording cannot answer: error (default), nearest or live')
    .option('--override <file>', 'JSON file with a replacement LLM response (fork the run at that step)')
    .option('--fast', 're-emit streamed responses at once instead of with their recorded timing')
    .option(
      '--no-prestart',
      'start the sandbox only when the job is ready (default: it starts while the trace is read)',
    )
    .option('--report <path>', 'write a diff report (recorded vs replay) to this file')
    .option('--format <format>', 'report format: md, json, html or junit (default md)')
    .option('--fail-on-diff', 'exit 1 when the replay diverged (for CI); without it a divergence still exits 0')
    .option('--timeout <duration>', 'stop the sandbox after this long (default 60s)')
    .option('--memory-mb <mb>', 'memory cap of the sandbox in MB: resident memory, Buffers included (default 512)')
    .option(
      '--replay-store <url>',
      `where to store the replay trace (default: the --store; for a read-only store such as s3://…, sqlite:${DEFAULT_SQLITE_PATH})`,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ retrace replay tr_0m1abc2de_4f1c2a9b7d3e8f60 --fast
  $ retrace replay tr_0m1abc2de_4f1c2a9b7d3e8f60 --agent src/agent.ts#supportAgent --report replay.html --format html --fail-on-diff
  $ retrace replay tr_0m1abc2de_4f1c2a9b7d3e8f60 --until 12 --on-miss live
  $ retrace replay tr_0m1abc2de_4f1c2a9b7d3e8f60 --store s3://acme-traces/prod --replay-store sqlite:.retrace/retrace.db`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          ReplayInputSchema,
          {
            ...options,
            traceId: args[0],
            fast: options.fast === true,
            prestart: options.prestart !== false,
            failOnDiff: options.failOnDiff === true,
          },
          'replay',
        );
        const format: Format = input.format ?? 'md';
        const { result, reportPath, writtenTo } = await ctx.withStore(
          async (store) => {
            if (!(await store.exists(ctx.tenant, input.traceId)))
              throw new TraceNotFoundError(ctx.tenant, input.traceId);
            // replay straight from a read-only store (the S3 archive): the replay trace goes to a writable one
            const targetUrl = input.replayStore ?? (store.readOnly ? `sqlite:${DEFAULT_SQLITE_PATH}` : undefined);
            const target = targetUrl !== undefined ? await openStore(targetUrl) : store;
            // said before anything runs: from here on, real calls (real cost) can be made
            if (input.onMiss === 'live')
              await ctx.err.line(
                'retrace: --on-miss live: a request the recording cannot answer goes to the real network (real calls, real cost).',
              );
            try {
              const result = await replayTrace({
                store,
                replayStore: target,
                tenant: ctx.tenant,
                traceId: input.traceId,
                onMiss: input.onMiss,
                fast: input.fast,
                prestart: input.prestart,
                timeoutMs: input.timeout,
                memoryMb: input.memoryMb,
                cwd: process.cwd(),
                ...(input.agent !== undefined ? { agent: input.agent } : {}),
                ...(input.until !== undefined ? { until: input.until } : {}),
                ...(input.override !== undefined ? { override: input.override } : {}),
              });
              if (input.report !== undefined) await writeReport(result, format, input.report);
              return { result, reportPath: input.report, writtenTo: target === store ? undefined : target.location };
            } finally {
              if (target !== store) await target.close();
            }
          },
          { mustExist: true },
        );
        if (writtenTo !== undefined && !ctx.json) await ctx.err.line(`replay stored in ${writtenTo}`);
        await printResult(ctx, input, result, reportPath);
        return result.verdict === 'diverged' && input.failOnDiff ? 1 : 0;
      }),
    );
};
