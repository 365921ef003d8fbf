import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import * as z from 'zod';
import { TraceNotFoundError } from '../../src/errors.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { redactUrl } from '../../src/secrets/redact.js';
import { scanValue } from '../../src/secrets/scan.js';
import { defaultStoreUrl } from '../../src/store/open-store.js';
import type { EventStore } from '../../src/store/types.js';
import type { CommandContext } from '../context.js';
import { InputFileError } from '../errors.js';
import { formatInt } from '../format.js';
import { parseOptions } from '../options.js';
import type { RegisterCommand } from './types.js';

/**
 * `retrace scan`: reports every secret-shaped value left in a store or an NDJSON trace file, with the catalogue the
 * redaction uses (src/secrets/shapes.ts), and exits 1 when there is any — a CI gate for golden traces and shared
 * stores. Nothing is changed; secrets are shown masked.
 */

const ScanInputSchema = z
  .object({
    traceId: z.string().trim().min(1).optional(),
    all: z.boolean().default(false),
    file: z.string().trim().min(1, 'must name a file').optional(),
  })
  .refine((v) => [v.traceId !== undefined, v.all, v.file !== undefined].filter(Boolean).length === 1, {
    message: 'give exactly one of: a trace id, --all, --file FILE',
    path: ['traceId'],
  });

export const ScanFindingSchema = z.object({
  traceId: z.string(),
  seq: z.number().int().nullable(),
  eventType: z.string(),
  /** JSON Pointer into the event; a JSON text or URL inside a string continues after "#" */
  path: z.string(),
  shape: z.string(),
  /** first characters and length, never the secret */
  preview: z.string(),
});

export const ScanResultSchema = z.object({
  ok: z.boolean(),
  source: z.union([z.object({ file: z.string() }), z.object({ store: z.string(), tenantId: z.string() })]),
  traces: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
  findings: z.array(ScanFindingSchema),
});
export type ScanResult = z.infer<typeof ScanResultSchema>;
export type ScanFinding = z.infer<typeof ScanFindingSchema>;

function findingsOf(event: unknown, fallbackTrace: string): ScanFinding[] {
  const e = (event ?? {}) as { traceId?: unknown; seq?: unknown; type?: unknown };
  const traceId = typeof e.traceId === 'string' ? e.traceId : fallbackTrace;
  const seq = typeof e.seq === 'number' && Number.isInteger(e.seq) ? e.seq : null;
  const eventType = typeof e.type === 'string' ? e.type : '?';
  return scanValue(event).map((f) => ({ traceId, seq, eventType, ...f }));
}

async function* allTraceIds(store: EventStore, tenant: string): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await store.list(tenant, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    for (const t of page.traces) yield t.traceId;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Lines are scanned as JSON whatever their schema: a planted or hand-edited file is exactly what scan is for. */
async function scanFile(path: string): Promise<{ traces: number; events: number; findings: ScanFinding[] }> {
  const input = createReadStream(path, { encoding: 'utf8' });
  await once(input, 'open').catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    throw new InputFileError(
      `Cannot read ${path}${code === 'ENOENT' ? ': no such file' : code === 'EISDIR' ? ': it is a folder' : `: ${String(code ?? err)}`}.`,
      'Pass the path of an NDJSON trace file, e.g. one written by `retrace export TRACE_ID --out trace.ndjson`.',
      'file',
      { cause: err },
    );
  });
  const findings: ScanFinding[] = [];
  const traces = new Set<string>();
  let events = 0;
  let lineNo = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNo += 1;
    if (text.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InputFileError(
        `${path} line ${lineNo}: not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
        'Each line must be one event as `retrace export` writes it.',
        `line ${lineNo}`,
      );
    }
    events += 1;
    const traceId = (raw as { traceId?: unknown } | null)?.traceId;
    traces.add(typeof traceId === 'string' ? traceId : '?');
    findings.push(...findingsOf(raw, `line ${lineNo}`));
  }
  return { traces: traces.size, events, findings };
}

async function scanStore(
  ctx: CommandContext,
  store: EventStore,
  traceId: string | undefined,
): Promise<{ traces: number; events: number; findings: ScanFinding[] }> {
  if (traceId !== undefined && !(await store.exists(ctx.tenant, traceId)))
    throw new TraceNotFoundError(ctx.tenant, traceId);
  const ids = traceId !== undefined ? [traceId] : allTraceIds(store, ctx.tenant);
  const findings: ScanFinding[] = [];
  let traces = 0;
  let events = 0;
  for await (const id of ids) {
    traces += 1;
    for await (const e of store.read(ctx.tenant, id) as AsyncIterable<StoredEvent>) {
      events += 1;
      findings.push(...findingsOf(e, id));
    }
  }
  return { traces, events, findings };
}

export const registerScan: RegisterCommand = (program, bind) => {
  program
    .command('scan')
    .description('report every secret-shaped value left in a trace, a whole tenant or an NDJSON file (exit 1 if any)')
    .argument('[traceId]', 'the trace to scan')
    .option('--all', 'scan every trace of the tenant')
    .option('--file <ndjson>', 'scan a trace file (e.g. a golden trace) instead of the store (--store is then unused)')
    .addHelpText(
      'after',
      `
Uses the same catalogue as the redaction (API keys of OpenAI, Anthropic, Stripe, AWS, GitHub, GitLab, Slack, Google,
Hugging Face, SendGrid, Twilio, npm; JWTs, PEM private keys, Basic/Bearer credentials, user:password@ in URLs,
credential-named fields). Secrets are printed masked. Exits 0 when clean, 1 when anything was found.

Examples:
  $ retrace scan tr_0m1abc2de_4f1c2a9b7d3e8f60
  $ retrace scan --all --store sqlite:shared/retrace.db
  $ retrace scan --file goldens/refund.ndjson --json`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          ScanInputSchema,
          { traceId: args[0], all: options.all === true, file: options.file },
          'scan',
        );
        const file = input.file;
        const scanned =
          file !== undefined
            ? await scanFile(file)
            : await ctx.withStore((store) => scanStore(ctx, store, input.traceId), { mustExist: true });
        const result: ScanResult = {
          ok: scanned.findings.length === 0,
          source:
            file !== undefined
              ? { file }
              : { store: redactUrl(ctx.globals.store ?? defaultStoreUrl()), tenantId: ctx.tenant },
          traces: scanned.traces,
          events: scanned.events,
          findings: scanned.findings,
        };
        if (ctx.json) await ctx.out.json(ScanResultSchema.parse(result));
        else {
          for (const f of result.findings)
            await ctx.out.line(
              `${f.traceId}  seq ${f.seq ?? '?'}  ${f.eventType}  ${f.path}  ${f.shape}  ${f.preview}`,
            );
          await ctx.out.line(
            `${result.ok ? 'clean' : 'SECRETS FOUND'}: ${formatInt(result.findings.length)} secret-shaped value(s) in ${formatInt(result.events)} events of ${formatInt(result.traces)} trace(s)`,
          );
        }
        return result.ok ? 0 : 1;
      }),
    );
};
