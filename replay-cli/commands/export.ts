import * as z from 'zod';
import { TraceNotFoundError } from '../../src/errors.js';
import { parseOptions } from '../options.js';
import { writeNdjson, writeNdjsonFile } from '../../src/transfer/ndjson.js';
import type { RegisterCommand } from './types.js';

const ExportInputSchema = z.object({
  traceId: z.string(),
  out: z.string().trim().min(1, 'must name a file').optional(),
});

export const registerExport: RegisterCommand = (program, bind) => {
  program
    .command('export')
    .description('write one trace as NDJSON (one stored event per line), e.g. to keep it as a golden trace')
    .argument('<traceId>', 'the trace to export')
    .option('--out <file>', 'write to this file instead of stdout (written whole or not at all)')
    .addHelpText(
      'after',
      `
Examples:
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 --out golden/refund-flow.ndjson
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 | gzip > trace.ndjson.gz`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(ExportInputSchema, { traceId: args[0], out: options.out }, 'export');
        return ctx.withStore(
          async (store) => {
            // checked up front so an unknown trace fails before anything is written
            if (!(await store.exists(ctx.tenant, input.traceId)))
              throw new TraceNotFoundError(ctx.tenant, input.traceId);
            const events = store.read(ctx.tenant, input.traceId);
            if (input.out === undefined) {
              await writeNdjson(events, ctx.out);
              return 0;
            }
            const count = await writeNdjsonFile(input.out, events);
            if (ctx.json) {
              await ctx.out.json({ traceId: input.traceId, tenantId: ctx.tenant, events: count, out: input.out });
              return 0;
            }
            // stdout may be piped into something; the confirmation is for the person, so it goes to stderr
            await ctx.err.line(`exported ${count} events of ${input.traceId} to ${input.out}`);
            return 0;
          },
          { mustExist: true },
        );
      }),
    );
};
