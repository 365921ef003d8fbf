import * as z from 'zod';
import { ValidationError } from '../../src/errors.js';
import type { EventStore } from '../../src/store/types.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
import { readTraceFile, toNewEvent, type FileTrace } from '../trace-file.js';
import type { CommandContext } from '../context.js';
import type { RegisterCommand } from './types.js';

const ImportArgsSchema = z.object({
  file: z.string().trim().min(1, 'must name a file'),
  entry: z
    .string()
    .trim()
    .min(1)
    .max(4096)
    .regex(/#[A-Za-z_$][\w$]*$/, 'must be path/to/agent.js#exportName')
    .optional(),
  dropGenericSpans: z.boolean().default(false),
});

export interface ImportOutcome {
  traceId: string;
  events: number;
  /** imported: appended now; unchanged: the store already held exactly these events (importing twice is a no-op) */
  result: 'imported' | 'unchanged';
}

/**
 * Decides, before anything is written, what happens to each trace of the file: a new trace is appended, a trace whose
 * events the store already holds (same eventIds at the same seqs) is left alone, anything else is a conflict. Checking
 * every trace first means a conflict in the third trace does not leave the first two imported. `retrace ci` imports
 * its golden traces through this too.
 */
export async function plan(
  store: EventStore,
  tenant: string,
  traces: readonly FileTrace[],
): Promise<Map<string, 'new' | 'unchanged'>> {
  const decisions = new Map<string, 'new' | 'unchanged'>();
  for (const trace of traces) {
    const summary = await store.summary(tenant, trace.traceId);
    if (!summary) {
      decisions.set(trace.traceId, 'new');
      continue;
    }
    let seq = 0;
    for await (const stored of store.read(tenant, trace.traceId, { toSeq: trace.events.length - 1 })) {
      const mine = trace.events[seq];
      if (!mine || mine.eventId.toLowerCase() !== stored.eventId.toLowerCase()) break;
      seq += 1;
    }
    if (seq !== trace.events.length) {
      throw new ValidationError(
        `Trace "${trace.traceId}" already exists in tenant "${tenant}" with different events (they differ from seq ${seq}, file line ${trace.lines[seq] ?? '?'}). Nothing was imported.`,
        'Import into another tenant (--tenant) or store (--store), or export the stored trace to compare it with the file.',
        'traceId',
      );
    }
    decisions.set(trace.traceId, 'unchanged');
  }
  return decisions;
}

async function importOtlp(
  ctx: CommandContext,
  file: string,
  format: 'otlp-json' | 'otlp-protobuf',
  options: { entry?: string | undefined; keepGenericSpans: boolean },
): Promise<number> {
  const { importOtlpFile } = await import('../../src/otel/import.js');
  const outcomes = await ctx.withStore((store) =>
    importOtlpFile(store, ctx.tenant, file, format, {
      keepGenericSpans: options.keepGenericSpans,
      ...(options.entry !== undefined ? { entry: options.entry } : {}),
    }),
  );
  if (ctx.json) {
    await ctx.out.json({ tenantId: ctx.tenant, file, format, traces: outcomes });
    return 0;
  }
  for (const o of outcomes)
    await ctx.out.line(
      `${o.result === 'imported' ? 'imported ' : 'unchanged'}  ${o.traceId}  ${o.agent}  ${formatInt(o.events)} events  (${o.sources.join(', ') || 'no GenAI spans'})`,
    );
  const imported = outcomes.filter((o) => o.result === 'imported');
  await ctx.out.line(
    `${imported.length} of ${outcomes.length} OTel trace(s) imported into tenant "${ctx.tenant}"; ${outcomes.length - imported.length} already present.`,
  );
  return 0;
}

export const registerImport: RegisterCommand = (program, bind) => {
  program
    .command('import')
    .description('import traces from an NDJSON file (validated, atomic per trace, importing twice changes nothing)')
    .argument('<file>', 'NDJSON written by `retrace export`, or OTLP/JSON or OTLP/protobuf spans (detected)')
    .option(
      '--entry <file#export>',
      'OTLP only: the agent entry, so an imported trace that carries bodies can be replayed',
    )
    .option('--drop-generic-spans', 'OTLP only: drop spans that are not GenAI, tool or HTTP (default: kept as steps)')
    .addHelpText(
      'after',
      `
Every line is checked (schema, seq order, hash chain) before anything is written; one bad line imports nothing and
names the line. Each trace is appended in one atomic write. Events go to --tenant, whatever tenant the file came from.
OTLP files (an OpenTelemetry SDK's file exporter, \`retrace export --format otlp-json\`) become one trace per OTel trace,
marked imported (docs/opentelemetry.md).

Examples:
  $ retrace import golden/refund-flow.ndjson
  $ retrace import golden/refund-flow.ndjson --tenant ci --store sqlite:/tmp/ci.db
  $ retrace import spans.otlp.json --entry src/agent.ts#support`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const { file, entry, dropGenericSpans } = parseOptions(
          ImportArgsSchema,
          { file: args[0], entry: options.entry, dropGenericSpans: options.dropGenericSpans === true },
          'import',
        );
        const { detectTraceFileFormat } = await import('../../src/otel/import.js');
        const format = await detectTraceFileFormat(file).catch(() => 'ndjson' as const);
        if (format !== 'ndjson') return importOtlp(ctx, file, format, { entry, keepGenericSpans: !dropGenericSpans });
        const traces = await readTraceFile(file);
        const outcomes = await ctx.withStore(async (store) => {
          const decisions = await plan(store, ctx.tenant, traces);
          const done: ImportOutcome[] = [];
          for (const trace of traces) {
            if (decisions.get(trace.traceId) === 'new') {
              // one append per trace: the store writes it in one transaction, or not at all
              await store.append(ctx.tenant, trace.traceId, trace.events.map(toNewEvent), {
                expectedRevision: 'no_stream',
              });
              done.push({ traceId: trace.traceId, events: trace.events.length, result: 'imported' });
            } else {
              done.push({ traceId: trace.traceId, events: trace.events.length, result: 'unchanged' });
            }
          }
          return done;
        });
        if (ctx.json) {
          await ctx.out.json({ tenantId: ctx.tenant, file, traces: outcomes });
          return 0;
        }
        for (const o of outcomes) {
          await ctx.out.line(
            `${o.result === 'imported' ? 'imported ' : 'unchanged'}  ${o.traceId}  ${formatInt(o.events)} events`,
          );
        }
        const imported = outcomes.filter((o) => o.result === 'imported');
        await ctx.out.line(
          `${imported.length} of ${outcomes.length} trace(s) imported into tenant "${ctx.tenant}" (${formatInt(imported.reduce((n, o) => n + o.events, 0))} events); ${outcomes.length - imported.length} already present.`,
        );
        return 0;
      }),
    );
};
