import * as z from 'zod';
import { importTraces } from '../../src/transfer/import.js';
import { readTraceFile } from '../../src/transfer/ndjson.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
import type { RegisterCommand } from './types.js';

const ImportArgsSchema = z.object({ file: z.string().trim().min(1, 'must name a file') });

export const registerImport: RegisterCommand = (program, bind) => {
  program
    .command('import')
    .description('import traces from an NDJSON file (validated, atomic per trace, importing twice changes nothing)')
    .argument('<file>', 'NDJSON file written by `retrace export` (may hold several traces)')
    .addHelpText(
      'after',
      `
Every line is checked (schema, seq order, hash chain) before anything is written; one bad line imports nothing and
names the line. Each trace is appended in one atomic write. Events go to --tenant, whatever tenant the file came from.

Examples:
  $ retrace import golden/refund-flow.ndjson
  $ retrace import golden/refund-flow.ndjson --tenant ci --store sqlite:/tmp/ci.db`,
    )
    .action(
      bind(async (ctx, { args }) => {
        const { file } = parseOptions(ImportArgsSchema, { file: args[0] }, 'import');
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
