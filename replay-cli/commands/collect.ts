import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import * as z from 'zod';
import { parseOptions } from '../options.js';
import type { RegisterCommand } from './types.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const CollectInputSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(4318),
  host: z.string().trim().min(1).max(255).default('127.0.0.1'),
  settleMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
  dropGenericSpans: z.boolean().default(false),
});

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const registerCollect: RegisterCommand = (program, bind) => {
  program
    .command('collect')
    .description('receive OTLP/HTTP spans from instrumented agents (POST /v1/traces) and store them as retrace traces')
    .option('--port <n>', 'port to listen on (0: any free port)', '4318')
    .option('--host <host>', 'address to bind (default 127.0.0.1; any other needs the printed token)', '127.0.0.1')
    .option('--settle-ms <ms>', 'import a trace whose root span never arrives after this long', '10000')
    .option('--drop-generic-spans', 'drop spans that are not GenAI, tool or HTTP (default: kept as steps)')
    .addHelpText(
      'after',
      `
Point any OpenTelemetry OTLP/HTTP exporter at it (protobuf or JSON, gzip allowed):
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4318/v1/traces

Examples:
  $ retrace collect
  $ retrace collect --port 4318 --tenant python-agents`,
    )
    .action(
      bind(async (ctx, { options }) => {
        const input = parseOptions(
          CollectInputSchema,
          { ...options, dropGenericSpans: options.dropGenericSpans === true },
          'collect',
        );
        const token = LOOPBACK.has(input.host) ? undefined : randomBytes(24).toString('base64url');
        const { createOtlpReceiver } = await import('../../src/otel/receiver.js');
        return ctx.withStore(async (store) => {
          const receiver = createOtlpReceiver({
            store,
            tenant: ctx.tenant,
            settleMs: input.settleMs,
            keepGenericSpans: !input.dropGenericSpans,
            onImported: (outcomes) => {
              for (const o of outcomes)
                void ctx.err.line(`${o.result} ${o.traceId} ${o.agent} (${o.events} events; ${o.sources.join(', ')})`);
            },
            onError: (err) => void ctx.err.line(`error: ${err instanceof Error ? err.message : String(err)}`),
          });
          const server = createServer((req, res) => {
            if (token !== undefined) {
              const auth = String(req.headers.authorization ?? '');
              const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
              if (!sameToken(given, token)) {
                res.writeHead(401, { 'content-type': 'application/json' });
                res.end(
                  JSON.stringify({ code: 16, message: 'missing or wrong token: send Authorization: Bearer <token>' }),
                );
                return;
              }
            }
            receiver.handle(req, res).then(
              (handled) => {
                if (!handled) {
                  res.writeHead(404, { 'content-type': 'application/json' });
                  res.end(JSON.stringify({ code: 5, message: 'only POST /v1/traces is served here' }));
                }
              },
              () => {
                if (!res.headersSent) res.writeHead(500);
                res.end();
              },
            );
          });
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(input.port, input.host, () => resolve());
          });
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : input.port;
          const host = input.host.includes(':') ? `[${input.host}]` : input.host;
          const url = `http://${host}:${port}/v1/traces`;
          if (ctx.json) await ctx.out.json({ url, tenantId: ctx.tenant, ...(token ? { token } : {}) });
          else {
            await ctx.out.line(`retrace collect: OTLP/HTTP traces → tenant "${ctx.tenant}" at ${url}`);
            if (token) await ctx.out.line(`token (send as Authorization: Bearer …): ${token}`);
          }
          await new Promise<void>((resolve) => {
            const stop = () => resolve();
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await receiver.close();
          return 0;
        });
      }),
    );
};
