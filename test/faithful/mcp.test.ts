import { createServer, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startLlmStub, type LlmStub } from '../../fixtures/llm-stub/index.js';
import { replayTrace } from '../../src/replay/index.js';
import type { EventStore } from '../../src/store/index.js';
import { readAll, record, tempStore } from '../replay/helpers.js';
import { mcpAgent, type McpAgentInput } from './mcp-agent.js';

/** An MCP client (@modelcontextprotocol/sdk) over Streamable HTTP to a small MCP server, then the LLM, replayed 3×. */
const TENANT = 'acme';
let stub: LlmStub;
let http: Server;
let mcpURL: string;
let st: Awaited<ReturnType<typeof tempStore>>;
let store: EventStore;

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'faithful-tools', version: '1.0.0' });
  server.registerTool(
    'lookup',
    { description: 'Looks up an order', inputSchema: { key: z.string() } },
    async ({ key }) => {
      await new Promise((r) => setTimeout(r, 30));
      return { content: [{ type: 'text', text: `order ${key} shipped` }] };
    },
  );
  return server;
}

beforeAll(async () => {
  stub = await startLlmStub();
  st = await tempStore();
  store = st.store;
  // stateless Streamable HTTP: one server and transport per request (the SDK's own stateless pattern)
  http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const addr = http.address();
  mcpURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/mcp`;
});
afterAll(async () => {
  await stub?.close();
  http?.closeAllConnections();
  await new Promise((r) => http?.close(r));
  await st?.cleanup();
});

describe('MCP over Streamable HTTP', () => {
  it('calls a tool and then the LLM; replays identical 3× with the MCP server and the LLM gone from the answers', async () => {
    const input: McpAgentInput = { baseURL: stub.openaiBaseUrl, apiKey: 'test-key-not-secret', mcpURL };
    const r = await record(
      store,
      TENANT,
      [stub.openaiBaseUrl],
      'mcpAgent',
      'test/faithful/mcp-agent.ts#mcpAgent',
      input,
      mcpAgent,
    );
    expect(r.error).toBeUndefined();
    const original = await readAll(store, TENANT, r.traceId);
    expect(original.filter((e) => e.type === 'http_request').length).toBeGreaterThanOrEqual(3);
    const last = original.at(-1);
    expect(last?.type === 'agent_completed' && (last.payload.output as { text: string }).text).toBe(
      'order A-1001 shipped',
    );
    for (let k = 0; k < 3; k++) {
      const result = await replayTrace({ store, tenant: TENANT, traceId: r.traceId, fast: true, timeoutMs: 240_000 });
      expect(result.misses, `replay ${k + 1}`).toEqual([]);
      expect(result.firstDivergence, `replay ${k + 1}`).toBeNull();
      expect(result.verdict).toBe('identical');
    }
  }, 600_000);
});
