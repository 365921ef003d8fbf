import { spawn } from 'node:child_process';
import * as z from 'zod';
import { assertTenantId } from '../../src/events/ids.js';
import { startInspector } from '../../src/inspect/server.js';
import { openStore } from '../../src/store/open-store.js';
import { DEFAULT_SQLITE_PATH } from '../../src/store/sqlite/sqlite-store.js';
import type { OtlpReceiver } from '../../src/otel/receiver.js';
import type { EventStore } from '../../src/store/types.js';
import { parseOptions, wholeNumber } from '../options.js';
import type { RegisterCommand } from './types.js';

const UiOptionsSchema = z.object({
  port: wholeNumber(0, 65535).default(4680),
  host: z.string().trim().min(1, 'must name a host or address').default('127.0.0.1'),
  tenants: z
    .string()
    .trim()
    .min(1, 'must list tenant ids')
    .transform((s) => s.split(',').map((t) => t.trim()))
    .optional(),
  open: z.boolean().default(false),
  token: z.boolean().default(true),
  replayStore: z.string().trim().min(1, 'must be a store URL').optional(),
  otlp: z.boolean().default(true),
});

/** Opens the URL in the desktop's browser; the URL is our own, never taken from a trace. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(command, [url], { stdio: 'ignore', detached: true })
      .on('error', () => undefined)
      .unref();
  } catch {
    // no desktop: the printed URL is enough
  }
}

export const registerUi: RegisterCommand = (program, bind) => {
  program
    .command('ui')
    .description('start the inspector: browse traces, replay from any step, fork with an edit, see the diff')
    .option('--port <n>', 'port to listen on (default 4680; 0: any free port)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; any other host requires the printed token)')
    .option('--tenants <ids>', 'serve these tenants (comma-separated) instead of --tenant alone')
    .option('--open', 'open the inspector in the default browser')
    .option('--no-token', 'serve without an access token (refused on any host but loopback)')
    .option('--no-otlp', 'do not accept OTLP/HTTP traces at POST /v1/traces')
    .option(
      '--replay-store <url>',
      `where replays started from the UI are stored (default: the --store; for a read-only store, sqlite:${DEFAULT_SQLITE_PATH})`,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ retrace ui
  $ retrace ui --store sqlite:.retrace/demo.db --tenant demo --open
  $ retrace ui --host 0.0.0.0 --port 8080        # prints a URL with ?token=…; requests without it get 401
  $ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4680/v1/traces node agent.js   # its spans appear in the list

OTLP: instrumented agents (OpenLLMetry, OpenInference, the Vercel AI SDK's telemetry, any OTel SDK) can send spans to
POST /v1/traces (protobuf or JSON), imported like \`retrace collect\` does, into the tenant given as ?tenant= (default:
the first served tenant); behind a token, send it as "Authorization: Bearer <token>" (OTEL_EXPORTER_OTLP_HEADERS).`,
    )
    .action(
      bind(async (ctx, { options }) => {
        const opts = parseOptions(
          UiOptionsSchema,
          { ...options, open: options.open === true, token: options.token !== false, otlp: options.otlp !== false },
          'ui',
        );
        const tenants = opts.tenants ?? [ctx.tenant];
        for (const t of tenants) assertTenantId(t);
        return ctx.withStore(
          async (store) => {
            const replayUrl = opts.replayStore ?? (store.readOnly ? `sqlite:${DEFAULT_SQLITE_PATH}` : undefined);
            const replayStore: EventStore | undefined =
              replayUrl !== undefined ? await openStore(replayUrl) : undefined;
            const server = await startInspector({
              store,
              tenants,
              host: opts.host,
              port: opts.port,
              cwd: process.cwd(),
              ...(opts.token ? {} : { token: false as const }),
              ...(replayStore ? { replayStore } : {}),
            });
            // the inspector's server is also an OTLP/HTTP receiver (src/otel/receiver.ts), one per tenant it serves:
            // spans from instrumented agents become traces in the list, with the same token and Host checks as the API
            const receivers = new Map<string, OtlpReceiver>();
            const otlp = opts.otlp && !store.readOnly;
            if (otlp) {
              const { createOtlpReceiver } = await import('../../src/otel/receiver.js');
              server.mount('POST', '/v1/traces', async ({ req, res, tenant }) => {
                let receiver = receivers.get(tenant);
                if (!receiver) {
                  receiver = createOtlpReceiver({
                    store,
                    tenant,
                    onImported: (outcomes) => {
                      for (const o of outcomes)
                        void ctx.err.line(`otlp: ${o.result} ${o.traceId} ${o.agent} (${o.events} events)`);
                    },
                    onError: (err) =>
                      void ctx.err.line(`otlp error: ${err instanceof Error ? err.message : String(err)}`),
                  });
                  receivers.set(tenant, receiver);
                }
                await receiver.handle(req, res);
                return undefined;
              });
            }
            await ctx.out.line(`retrace inspector: ${server.url}`);
            if (otlp) await ctx.out.line(`OTLP/HTTP traces: ${new URL('/v1/traces', server.url).href}`);
            await ctx.out.line(
              `store ${store.location} · tenant${tenants.length > 1 ? 's' : ''} ${tenants.join(', ')}${server.token ? ' · the token in the URL is required' : ''} · Ctrl-C stops`,
            );
            if (opts.open) openBrowser(server.url);
            await new Promise<void>((resolve) => {
              process.once('SIGINT', resolve);
              process.once('SIGTERM', resolve);
            });
            // spans still waiting for their root are imported before the store closes
            for (const receiver of receivers.values()) await receiver.close();
            await server.close();
            await replayStore?.close();
            return 0;
          },
          { mustExist: true },
        );
      }),
    );
};
