import * as z from 'zod';
import type { CommandContext } from '../context.js';
import type { TraceSummary } from '../../src/store/types.js';
import { formatDuration, formatInt, formatTimestamp, formatTokens, formatTraceCost } from '../format.js';
import { DurationSchema, parseOptions, wholeNumber } from '../options.js';
import { renderTable, type Column } from '../output.js';
import type { RegisterCommand } from './types.js';

const ListOptionsSchema = z.object({
  status: z.enum(['running', 'completed', 'failed', 'incomplete']).optional(),
  agent: z.string().trim().min(1, 'must not be empty').optional(),
  since: DurationSchema.optional(),
  limit: wholeNumber(1, 1000).default(50),
  cursor: z.string().min(1).optional(),
});

const COLUMNS: Column<TraceSummary>[] = [
  { header: 'id', value: (t) => t.traceId },
  { header: 'agent', value: (t) => t.agent ?? '-', maxWidth: 32 },
  { header: 'status', value: (t) => t.status },
  { header: 'events', value: (t) => formatInt(t.eventCount), align: 'right' },
  { header: 'tokens', value: (t) => formatTokens(t.inputTokens, t.outputTokens), align: 'right' },
  { header: 'cost', value: (t) => formatTraceCost(t.costUsd, t.inputTokens + t.outputTokens), align: 'right' },
  { header: 'started', value: (t) => formatTimestamp(t.startedAt) },
  { header: 'duration', value: (t) => formatDuration(t.durationMs), align: 'right' },
];

/** The same command line with the new cursor, so the filters carry over to the next page. */
function nextPageCommand(options: Record<string, unknown>, cursor: string): string {
  const flags = ['status', 'agent', 'since', 'limit']
    .filter((k) => typeof options[k] === 'string')
    .map((k) => {
      const value = String(options[k]);
      return `--${k} ${/^[\w.:@-]+$/.test(value) ? value : JSON.stringify(value)}`;
    });
  return ['retrace list', ...flags, `--cursor ${cursor}`].join(' ');
}

export const registerList: RegisterCommand = (program, bind) => {
  program
    .command('list')
    .description('list the traces of the tenant, newest first')
    .option('--status <status>', 'only traces with this status: running, completed, failed or incomplete')
    .option('--agent <name>', 'only traces of this agent')
    .option('--since <duration>', 'only traces started within this long ago, e.g. 30m, 2h, 7d')
    .option('--limit <n>', 'page size, 1-1000 (default 50)')
    .option('--cursor <token>', 'continue after a previous page (its nextCursor)')
    .addHelpText(
      'after',
      `
Examples:
  $ retrace list
  $ retrace list --status failed --since 2h
  $ retrace list --agent support-bot --limit 10 --json | jq '.traces[].traceId'`,
    )
    .action(
      bind(async (ctx, { options }) => {
        const opts = parseOptions(ListOptionsSchema, options, 'list');
        const page = await ctx.withStore(
          (store) =>
            store.list(ctx.tenant, {
              limit: opts.limit,
              ...(opts.status !== undefined ? { status: opts.status } : {}),
              ...(opts.agent !== undefined ? { agent: opts.agent } : {}),
              ...(opts.since !== undefined ? { startedAfter: new Date(Date.now() - opts.since).toISOString() } : {}),
              ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
            }),
          { mustExist: true },
        );
        if (ctx.json) {
          await ctx.out.json(page);
          return 0;
        }
        if (page.traces.length === 0) {
          await ctx.out.line(`No traces for tenant "${ctx.tenant}"${opts.cursor ? ' after this cursor' : ''}.`);
          const filtered = Object.keys(opts).some((k) => k !== 'limit' && opts[k as keyof typeof opts] !== undefined);
          if (!filtered) {
            const others = await otherTenants(ctx, ctx.tenant);
            if (others.length > 0)
              await ctx.out.line(
                `This store has traces under ${others.length === 1 ? 'tenant' : 'tenants'} ${others.map((t) => `"${t}"`).join(', ')}: retrace list --tenant ${others[0]} (or set RETRACE_TENANT).`,
              );
          }
          return 0;
        }
        await ctx.out.line(renderTable(page.traces, COLUMNS));
        if (page.nextCursor !== undefined) {
          await ctx.out.line(`\nMore traces: ${nextPageCommand(options, page.nextCursor)}`);
        }
        return 0;
      }),
    );
};

/** The other tenants of this store that hold traces (one store file is one trust domain, so their names may be shown). */
async function otherTenants(ctx: CommandContext, tenant: string): Promise<string[]> {
  try {
    const all = await ctx.withStore(async (store) => (store.tenants ? await store.tenants() : []));
    return all.filter((t) => t !== tenant);
  } catch {
    return [];
  }
}
