import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import { TraceNotFoundError } from '../../src/errors.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import type { EventStore } from '../../src/store/types.js';
import { OutputFileError } from '../errors.js';
import { parseOptions } from '../options.js';
import { writeNdjson, writeNdjsonFile } from '../../src/transfer/ndjson.js';
import type { RegisterCommand } from './types.js';

const HeaderSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+=.*$/, 'must be NAME=VALUE with a valid header name')
  .refine((h) => !/[\r\n]/.test(h), 'must not contain a line break');

const ExportInputSchema = z
  .object({
    traceIds: z.array(z.string()).min(1, 'name at least one trace'),
    out: z.string().trim().min(1, 'must name a file').optional(),
    format: z.enum(['ndjson', 'otlp-json', 'otlp-protobuf']).default('ndjson'),
    otlpEndpoint: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:4318/v1/traces' })
      .optional(),
    otlpHeader: z.array(HeaderSchema).default([]),
    otlpProtocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
    includeContent: z.boolean().default(false),
  })
  .refine((o) => o.otlpEndpoint === undefined || o.out === undefined, {
    message: '--out and --otlp-endpoint exclude each other',
    path: ['out'],
  })
  .refine((o) => o.format !== 'otlp-protobuf' || o.out !== undefined || o.otlpEndpoint !== undefined, {
    message: 'binary protobuf is written to a file: add --out FILE (or use --format otlp-json)',
    path: ['out'],
  });

/** writes whole or not at all: a temporary sibling, then a rename */
function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const target = resolve(path);
  const temp = `${target}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(temp, bytes);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new OutputFileError(
      `Cannot write ${path}: ${err instanceof Error ? err.message : String(err)}.`,
      'Check that the folder exists and is writable.',
      { cause: err },
    );
  }
}

async function readAll(store: EventStore, tenant: string, traceId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const e of store.read(tenant, traceId)) events.push(e);
  return events;
}

export const registerExport: RegisterCommand = (program, bind) => {
  program
    .command('export')
    .description('write traces as NDJSON (golden traces) or as OpenTelemetry GenAI spans (OTLP file or endpoint)')
    .argument('<traceId...>', 'the trace(s) to export')
    .option('--out <file>', 'write to this file instead of stdout (written whole or not at all)')
    .option('--format <format>', 'ndjson | otlp-json | otlp-protobuf', 'ndjson')
    .option('--otlp-endpoint <url>', 'send the spans to this OTLP/HTTP traces endpoint instead of writing a file')
    .option('--otlp-header <name=value...>', 'a header for the endpoint (repeatable), e.g. authorization=Bearer …')
    .option('--otlp-protocol <protocol>', 'http/protobuf | http/json (with --otlp-endpoint)', 'http/protobuf')
    .option('--include-content', 'add prompts, outputs, tool arguments and results (redacted as stored) to the spans')
    .addHelpText(
      'after',
      `
OTLP spans follow the OpenTelemetry GenAI semantic conventions (docs/opentelemetry.md): invoke_agent for the run,
chat/embeddings per LLM call, execute_tool per tool call, an HTTP client span per other request. Message content is
left out unless --include-content.

Examples:
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 --out golden/refund-flow.ndjson
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 | gzip > trace.ndjson.gz
  $ retrace export tr_0m1abc2de_4f1c2a9b7d3e8f60 --format otlp-json --out trace.otlp.json
  $ retrace export tr_a tr_b --otlp-endpoint http://localhost:4318/v1/traces --include-content`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          ExportInputSchema,
          {
            traceIds: args[0],
            out: options.out,
            format: options.format,
            otlpEndpoint: options.otlpEndpoint,
            otlpHeader: options.otlpHeader,
            otlpProtocol: options.otlpProtocol,
            includeContent: options.includeContent === true,
          },
          'export',
        );
        const otlp = input.format !== 'ndjson' || input.otlpEndpoint !== undefined;
        return ctx.withStore(
          async (store) => {
            // checked up front so an unknown trace fails before anything is written or sent
            for (const id of input.traceIds)
              if (!(await store.exists(ctx.tenant, id))) throw new TraceNotFoundError(ctx.tenant, id);
            if (!otlp) {
              let count = 0;
              if (input.out === undefined) {
                for (const id of input.traceIds) count += await writeNdjson(store.read(ctx.tenant, id), ctx.out);
                return 0;
              }
              if (input.traceIds.length === 1)
                count = await writeNdjsonFile(input.out, store.read(ctx.tenant, input.traceIds[0]!));
              else {
                const ids = input.traceIds;
                const all = async function* () {
                  for (const id of ids) yield* store.read(ctx.tenant, id);
                };
                count = await writeNdjsonFile(input.out, all());
              }
              if (ctx.json) {
                await ctx.out.json({ traceIds: input.traceIds, tenantId: ctx.tenant, events: count, out: input.out });
                return 0;
              }
              // stdout may be piped into something; the confirmation is for the person, so it goes to stderr
              await ctx.err.line(`exported ${count} events of ${input.traceIds.join(', ')} to ${input.out}`);
              return 0;
            }
            const { spansOf, serializeOtlpJson, serializeOtlpProtobuf, sendSpans } = await import(
              '../../src/otel/export.js'
            );
            const traces = [];
            for (const id of input.traceIds) traces.push(await readAll(store, ctx.tenant, id));
            const spans = await spansOf(traces, { includeContent: input.includeContent });
            if (input.otlpEndpoint !== undefined) {
              const headers: Record<string, string> = {};
              for (const h of input.otlpHeader) {
                const eq = h.indexOf('=');
                headers[h.slice(0, eq)] = h.slice(eq + 1);
              }
              await sendSpans(spans, { url: input.otlpEndpoint, headers, protocol: input.otlpProtocol });
              if (ctx.json)
                await ctx.out.json({ traceIds: input.traceIds, spans: spans.length, endpoint: input.otlpEndpoint });
              else
                await ctx.err.line(
                  `sent ${spans.length} spans of ${input.traceIds.length} trace(s) to ${input.otlpEndpoint}`,
                );
              return 0;
            }
            const bytes =
              input.format === 'otlp-protobuf' ? await serializeOtlpProtobuf(spans) : await serializeOtlpJson(spans);
            if (input.out === undefined) {
              await ctx.out.line(Buffer.from(bytes).toString('utf8'));
              return 0;
            }
            writeFileAtomically(
              input.out,
              input.format === 'otlp-json' ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes,
            );
            if (ctx.json) await ctx.out.json({ traceIds: input.traceIds, spans: spans.length, out: input.out });
            else await ctx.err.line(`exported ${spans.length} spans of ${input.traceIds.join(', ')} to ${input.out}`);
            return 0;
          },
          { mustExist: true },
        );
      }),
    );
};
