import * as z from 'zod';
import type { RetraceError } from '../../src/errors.js';
import { loadOptional } from '../../src/optional-dependencies.js';
import { EXIT } from '../errors.js';
import { formatInt } from '../format.js';
import { DurationSchema, parseOptions, wholeNumber } from '../options.js';
import type { RegisterCommand } from './types.js';

/**
 * `retrace archive` (hot store → S3 cold tier) and `retrace restore` (back). Both run per trace and go on after a
 * failure; the exit code then says what kind of failure it was (2 input, e.g. an unknown id; 3 store/S3).
 */

/**
 * Loaded on use: the AWS SDK takes a noticeable part of a second to import, most commands never need it, and it is an
 * optional peer dependency (a missing one is reported with its install line).
 */
const loadS3 = () => loadOptional(['@aws-sdk/client-s3'], () => import('../../src/store/s3/index.js'));

const S3_URL = z
  .string()
  .trim()
  .regex(/^s3:\/\//, 'must be an s3://BUCKET/PREFIX URL');

const ArchiveInputSchema = z
  .object({
    traceIds: z.array(z.string()),
    to: S3_URL,
    olderThan: DurationSchema.optional(),
    prune: z.boolean().default(false),
    concurrency: wholeNumber(1, 64).default(8),
  })
  .refine((o) => o.traceIds.length > 0 !== (o.olderThan !== undefined), {
    message: 'give trace ids or --older-than (one of the two)',
    path: ['olderThan'],
  });

const RestoreInputSchema = z.object({ traceIds: z.array(z.string()).min(1), from: S3_URL });

interface Outcome {
  traceId: string;
  outcome: string;
  eventCount: number;
  reason?: string;
  error?: RetraceError;
}

/** 0 when nothing failed; otherwise the worst failure's category (environment beats input). */
function exitCodeOf(results: readonly Outcome[]): number {
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length === 0) return EXIT.ok;
  return failed.some((r) => r.error?.exitCategory !== 'input') ? EXIT.environment : EXIT.input;
}

/** RetraceError objects do not serialize their message; --json gets the code and reason instead. */
function plain<T extends Outcome>(r: T): Omit<T, 'error'> & { code?: string } {
  const { error, ...rest } = r;
  return error ? { ...rest, code: error.code } : rest;
}

export const registerArchive: RegisterCommand = (program, bind) => {
  program
    .command('archive')
    .description('copy finished traces to the S3 archive (cold tier), optionally deleting the hot copy')
    .argument('[traceIds...]', 'traces to archive (or select them with --older-than)')
    .requiredOption('--to <url>', 'archive location, s3://BUCKET/PREFIX[?endpoint=…&region=…]')
    .option('--older-than <duration>', 'archive every finished trace started longer ago than this, e.g. 30d')
    .option('--prune', 'delete the hot copy once the archived object was read back and checked')
    .option('--concurrency <n>', 'traces archived at once, 1-64 (default 8)')
    .addHelpText(
      'after',
      `
Examples:
  $ retrace archive --older-than 30d --to s3://acme-traces/prod --prune
  $ retrace archive tr_0m1abc2de_4f1c2a9b7d3e8f60 --to "s3://traces/dev?endpoint=http://127.0.0.1:9000"`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          ArchiveInputSchema,
          {
            traceIds: args[0] ?? [],
            to: options.to,
            olderThan: options.olderThan,
            prune: options.prune === true,
            concurrency: options.concurrency,
          },
          'archive',
        );
        const { archiveTraces } = await loadS3();
        const report = await ctx.withStore((from) =>
          archiveTraces({
            from,
            tenantId: ctx.tenant,
            to: input.to,
            prune: input.prune,
            concurrency: input.concurrency,
            ...(input.olderThan !== undefined ? { olderThanMs: input.olderThan } : { traceIds: input.traceIds }),
          }),
        );
        if (ctx.json) {
          await ctx.out.json({ ...report, results: report.results.map(plain) });
        } else {
          for (const r of report.results) {
            await ctx.out.line(
              `${r.outcome.padEnd(16)}  ${r.traceId}  ${formatInt(r.eventCount)} events${r.pruned ? ', pruned' : ''}${r.reason ? `  (${r.reason})` : ''}`,
            );
          }
          await ctx.out.line(
            `${report.archived} archived, ${report.alreadyArchived} already archived, ${report.skipped} skipped, ${report.failed} failed, ${report.pruned} pruned → ${report.location}`,
          );
        }
        return exitCodeOf(report.results);
      }),
    );

  program
    .command('restore')
    .description('copy archived traces back from S3 into the store (idempotent: restoring twice changes nothing)')
    .argument('<traceIds...>', 'traces to restore')
    .requiredOption('--from <url>', 'archive location, s3://BUCKET/PREFIX[?endpoint=…&region=…]')
    .addHelpText(
      'after',
      `
Examples:
  $ retrace restore tr_0m1abc2de_4f1c2a9b7d3e8f60 --from s3://acme-traces/prod
  $ retrace restore a b c --from s3://acme-traces/prod --store sqlite:/tmp/investigation.db`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(RestoreInputSchema, { traceIds: args[0], from: options.from }, 'restore');
        const { restoreTraces } = await loadS3();
        const report = await ctx.withStore((to) =>
          restoreTraces({ from: input.from, to, tenantId: ctx.tenant, traceIds: input.traceIds }),
        );
        if (ctx.json) {
          await ctx.out.json({ ...report, results: report.results.map(plain) });
        } else {
          for (const r of report.results) {
            await ctx.out.line(
              `${r.outcome.padEnd(16)}  ${r.traceId}  ${formatInt(r.eventCount)} events${r.reason ? `  (${r.reason})` : ''}`,
            );
          }
          await ctx.out.line(
            `${report.restored} restored, ${report.failed} failed (${formatInt(report.events)} new events) into tenant "${ctx.tenant}"`,
          );
        }
        return exitCodeOf(report.results);
      }),
    );
};
