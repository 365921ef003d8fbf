import * as z from 'zod';
import { TraceNotFoundError } from '../../src/errors.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import {
  eventCost,
  eventLatency,
  eventName,
  eventPreview,
  eventTokens,
  formatDuration,
  formatInt,
  formatTimestamp,
  formatTokens,
  formatTraceCost,
  unpricedCalls,
} from '../format.js';
import { parseOptions } from '../options.js';
import { renderTable, type Column } from '../output.js';
import type { RegisterCommand } from './types.js';

const ShowArgsSchema = z.object({ traceId: z.string() });

const COLUMNS: Column<StoredEvent>[] = [
  { header: 'seq', value: (e) => String(e.seq), align: 'right' },
  { header: 'type', value: (e) => e.type },
  { header: 'name', value: (e) => eventName(e), maxWidth: 28 },
  { header: 'latency', value: (e) => formatDuration(eventLatency(e)), align: 'right' },
  { header: 'tokens', value: (e) => eventTokens(e), align: 'right' },
  { header: 'cost', value: (e) => eventCost(e), align: 'right' },
  { header: 'preview', value: (e) => eventPreview(e) },
];

export const registerShow: RegisterCommand = (program, bind) => {
  program
    .command('show')
    .description('print the timeline of one trace: every event with its timing, tokens, cost and a preview')
    .argument('<traceId>', 'the trace to show (see `retrace list`)')
    .addHelpText(
      'after',
      `
Examples:
  $ retrace show tr_0m1abc2de_4f1c2a9b7d3e8f60
  $ retrace show tr_0m1abc2de_4f1c2a9b7d3e8f60 --json | jq '.[] | select(.type == "llm_response")'`,
    )
    .action(
      bind(async (ctx, { args }) => {
        const { traceId } = parseOptions(ShowArgsSchema, { traceId: args[0] }, 'show');
        return ctx.withStore(
          async (store) => {
            // summary() validates the id (a path-traversal id is an InvalidIdError) and tells unknown traces apart
            const summary = await store.summary(ctx.tenant, traceId);
            if (!summary) throw new TraceNotFoundError(ctx.tenant, traceId);
            if (ctx.json) {
              await ctx.out.jsonArray(store.read(ctx.tenant, traceId));
              return 0;
            }
            const events: StoredEvent[] = [];
            for await (const e of store.read(ctx.tenant, traceId)) events.push(e);
            await ctx.out.line(
              [
                `trace    ${summary.traceId}${summary.replayOf ? ` (replay of ${summary.replayOf})` : ''}`,
                `agent    ${summary.agent ?? '-'}`,
                `status   ${summary.status}`,
                `started  ${formatTimestamp(summary.startedAt)}   duration ${formatDuration(summary.durationMs)}`,
                `events   ${formatInt(summary.eventCount)}   tokens ${formatTokens(summary.inputTokens, summary.outputTokens)}   cost ${formatTraceCost(summary.costUsd, summary.inputTokens + summary.outputTokens, unpricedCalls(events))}`,
                '',
              ].join('\n'),
            );
            await ctx.out.line(renderTable(events, COLUMNS));
            return 0;
          },
          { mustExist: true },
        );
      }),
    );
};
