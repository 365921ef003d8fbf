import * as z from 'zod';
import { importTraces } from '../../src/transfer/import.js';
import { readTraceFile } from '../../src/transfer/ndjson.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
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
        const outcomes = await ctx.withStore((store) => importTraces(store, ctx.tenant, traces));
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
