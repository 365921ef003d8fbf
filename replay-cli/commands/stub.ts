import * as z from 'zod';
import { RetraceError } from '../../src/errors.js';
import { startLlmStub } from '../../fixtures/llm-stub/index.js';
import { EXIT } from '../errors.js';
import { parseOptions, wholeNumber } from '../options.js';
import type { RegisterCommand } from './types.js';

/**
 * `retrace stub`: the deterministic OpenAI- and Anthropic-compatible LLM server retrace's own tests and demo run
 * against (fixtures/llm-stub/), for trying retrace without an API key and for users' own tests. It runs until
 * SIGINT/SIGTERM; the first line on stdout says where it listens (one JSON line with --json, for scripts).
 */

/** The port or interface cannot be bound (in use, no permission, unknown address): the machine's, so exit 3. */
export class StubListenError extends RetraceError {
  readonly code = 'STUB_LISTEN_FAILED';
}

const StubOptionsSchema = z.object({
  port: wholeNumber(0, 65_535).default(8787),
  host: z
    .string()
    .trim()
    .regex(/^[\w.:-]+$/, 'must be a host name or an IP address, e.g. 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  chunkDelayMs: wholeNumber(0, 60_000).default(20),
});

/** Resolves on the first SIGINT or SIGTERM (and stops listening for the other). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const registerStub: RegisterCommand = (program, bind) => {
  program
    .command('stub')
    .description('run a deterministic OpenAI/Anthropic-compatible LLM server (no API key needed) until interrupted')
    .option('--port <n>', 'port to listen on, 0 for any free port (default 8787)')
    .option('--host <address>', 'interface to listen on (default 127.0.0.1; 0.0.0.0 to serve other machines)')
    .option('--chunk-delay-ms <n>', 'pause between streamed SSE events in ms (default 20)')
    .addHelpText(
      'after',
      `
Routes: POST /v1/chat/completions, /v1/responses, /v1/embeddings (OpenAI), POST /v1/messages (Anthropic), GET /health.
The same request always gets the same answer; prompts such as "call lookup_order({...})" make it call tools, and
[[fail:429]], [[delay:500]], [[reply:text]] … simulate provider behaviour (fixtures/README.md lists them all).

Examples:
  $ retrace stub
  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 OPENAI_API_KEY=sk-stub retrace record -- node agent.js
  $ retrace stub --port 0 --json | head -1 | jq -r .openaiBaseUrl`,
    )
    .action(
      bind(async (ctx, { options }) => {
        const opts = parseOptions(StubOptionsSchema, options, 'stub');
        const signal = untilSignal();
        let stub: Awaited<ReturnType<typeof startLlmStub>>;
        try {
          stub = await startLlmStub({ port: opts.port, host: opts.host, chunkDelayMs: opts.chunkDelayMs });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new StubListenError(
            `Cannot listen on ${opts.host}:${opts.port} (${code ?? (err instanceof Error ? err.message : String(err))}).`,
            code === 'EADDRINUSE'
              ? `Another process uses port ${opts.port}: pick another one with --port N, or --port 0 for any free port.`
              : 'Check --host (an address of this machine) and --port (1024 and above need no privileges).',
            'environment',
            { cause: err },
          );
        }
        const urls = { url: stub.url, openaiBaseUrl: stub.openaiBaseUrl, anthropicBaseUrl: stub.anthropicBaseUrl };
        if (ctx.json) {
          await ctx.out.line(JSON.stringify(urls));
        } else {
          await ctx.out.line(`retrace stub listening on ${stub.url} (Ctrl-C to stop)`);
          await ctx.out.line(`  OpenAI:    OPENAI_BASE_URL=${urls.openaiBaseUrl} OPENAI_API_KEY=sk-stub`);
          await ctx.out.line(`  Anthropic: ANTHROPIC_BASE_URL=${urls.anthropicBaseUrl} ANTHROPIC_API_KEY=sk-stub`);
        }
        await signal;
        await stub.close();
        return EXIT.ok;
      }),
    );
};
