import * as z from 'zod';
import { TraceNotFoundError } from '../../src/errors.js';
import type { EventStore } from '../../src/store/types.js';
import { verifyTrace, type VerifyResult } from '../../src/store/verify.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
import type { CommandContext } from '../context.js';
import type { RegisterCommand } from './types.js';

const VerifyArgsSchema = z.object({ traceId: z.string().optional() });

/** Every trace id of the tenant, page by page, so a large store is never listed in one query. */
async function* allTraceIds(store: EventStore, tenant: string): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await store.list(tenant, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    for (const t of page.traces) yield t.traceId;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

async function report(ctx: CommandContext, r: VerifyResult): Promise<void> {
  if (r.ok) {
    await ctx.out.line(`ok    ${r.traceId}  ${formatInt(r.events)} events, ${r.lifecycle}`);
    return;
  }
  await ctx.out.line(`FAIL  ${r.traceId}  ${r.problems.length} problem(s)`);
  for (const p of r.problems) {
    await ctx.out.line(`      seq ${p.seq ?? '?'}  ${p.rule}  ${p.message}`);
  }
}

export const registerVerify: RegisterCommand = (program, bind) => {
  program
    .command('verify')
    .description('check schema, seq order, lifecycle and hash chain of one trace, or of every trace of the tenant')
    .argument('[traceId]', 'the trace to check (default: all traces of the tenant)')
    .addHelpText(
      'after',
      `
Exits 1 if any trace fails, printing each problem with its seq and rule (schema, gap, hash-chain, lifecycle).

Examples:
  $ retrace verify tr_0m1abc2de_4f1c2a9b7d3e8f60
  $ retrace verify --tenant prod --json`,
    )
    .action(
      bind(async (ctx, { args }) => {
        const { traceId } = parseOptions(VerifyArgsSchema, { traceId: args[0] }, 'verify');
        const results = await ctx.withStore(
          async (store) => {
            const out: VerifyResult[] = [];
            // verifyTrace reports a bad id as a 'read' problem (exit 1); a typo is a usage error (exit 2), so check first
            if (traceId !== undefined && !(await store.exists(ctx.tenant, traceId))) {
              throw new TraceNotFoundError(ctx.tenant, traceId);
            }
            const ids = traceId !== undefined ? [traceId] : allTraceIds(store, ctx.tenant);
            for await (const id of ids) {
              const r = await verifyTrace(store, ctx.tenant, id);
              out.push(r);
              if (!ctx.json) await report(ctx, r);
            }
            return out;
          },
          { mustExist: true },
        );
        const failed = results.filter((r) => !r.ok).length;
        if (ctx.json) {
          await ctx.out.json({ ok: failed === 0, tenantId: ctx.tenant, traces: results });
        } else if (results.length === 0) {
          await ctx.out.line(`No traces for tenant "${ctx.tenant}": nothing to verify.`);
        } else {
          await ctx.out.line(`\nverified ${results.length} trace(s): ${results.length - failed} ok, ${failed} failed`);
        }
        return failed === 0 ? 0 : 1;
      }),
    );
};
