import * as z from 'zod';
import {
  renderHtml,
  renderJson,
  renderJunit,
  renderMarkdown,
  diffTraces,
  type DiffReport,
} from '../../src/diff/index.js';
import { TraceNotFoundError } from '../../src/errors.js';
import { writeFileAtomic } from '../files.js';
import { parseOptions } from '../options.js';
import type { RegisterCommand } from './types.js';

const FORMATS = ['md', 'json', 'html', 'junit'] as const;
type Format = (typeof FORMATS)[number];

const DiffInputSchema = z.object({
  traceA: z.string(),
  traceB: z.string(),
  format: z.enum(FORMATS).optional(),
  out: z.string().trim().min(1, 'must name a file').optional(),
  policy: z.string().trim().min(1, 'must name a file').optional(),
});

const RENDER: Record<Format, (report: DiffReport) => string> = {
  md: (r) => renderMarkdown(r),
  json: (r) => renderJson(r),
  html: (r) => renderHtml(r),
  junit: (r) => renderJunit(r),
};

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export const registerDiff: RegisterCommand = (program, bind) => {
  program
    .command('diff')
    .description('compare two traces structurally: verdict, first divergence, every difference (exit 1 if diverged)')
    .argument('<traceA>', 'the reference trace (e.g. the recording)')
    .argument('<traceB>', 'the trace to compare with it (e.g. a replay)')
    .option('--format <format>', 'report format: md, json, html or junit (default md; json with --json)')
    .option('--out <path>', 'write the report to this file and print only the verdict')
    .option('--policy <file>', 'JSON diff policy: paths or event types to ignore, on top of the defaults')
    .addHelpText(
      'after',
      `
Exit codes: 0 identical or equivalent (only ignored fields differ), 1 diverged, 2 bad input, 3 store failure.

Examples:
  $ retrace diff tr_recorded tr_replayed
  $ retrace diff tr_recorded tr_replayed --format html --out report.html
  $ retrace diff tr_recorded tr_replayed --format junit --out junit.xml --policy retrace-policy.json`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          DiffInputSchema,
          { traceA: args[0], traceB: args[1], format: options.format, out: options.out, policy: options.policy },
          'diff',
        );
        const format: Format = input.format ?? (ctx.json ? 'json' : 'md');
        const report = await ctx.withStore(
          async (store) => {
            // checked first so an unknown or malformed id is the store's own message (exit 2), whichever side it is
            for (const id of [input.traceA, input.traceB]) {
              if (!(await store.exists(ctx.tenant, id))) throw new TraceNotFoundError(ctx.tenant, id);
            }
            return diffTraces(
              { store, tenantId: ctx.tenant, traceId: input.traceA },
              { store, tenantId: ctx.tenant, traceId: input.traceB },
              input.policy !== undefined ? { policyFile: input.policy } : {},
            );
          },
          { mustExist: true },
        );
        const text = withNewline(RENDER[format](report));
        const code = report.verdict === 'diverged' ? 1 : 0;
        if (input.out === undefined) {
          await ctx.out.write(text);
          return code;
        }
        writeFileAtomic(input.out, text);
        if (ctx.json) {
          await ctx.out.json({
            verdict: report.verdict,
            summary: report.summary,
            firstDivergence: report.firstDivergence,
            format,
            out: input.out,
          });
        } else {
          // the summary already names the verdict and the first divergence
          await ctx.out.line(report.summary);
          await ctx.out.line(`report: ${input.out}`);
        }
        return code;
      }),
    );
};
