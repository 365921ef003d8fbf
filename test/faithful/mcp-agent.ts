import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import OpenAI from 'openai';

export interface McpAgentInput {
  baseURL: string;
  apiKey: string;
  mcpURL: string;
}

/** an MCP client over Streamable HTTP: lists the tools, calls one, then asks the LLM with its result */
export async function mcpAgent(input: McpAgentInput) {
  const client = new Client({ name: 'faithful-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(input.mcpURL)));
  try {
    const { tools } = await client.listTools();
    const result = await client.callTool({ name: 'lookup', arguments: { key: 'A-1001' } });
    const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('');
    const llm = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey, maxRetries: 0 });
    const answer = await llm.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `tools ${tools.map((t) => t.name).join(',')}; lookup said ${text}` }],
    });
    return { text, answer: answer.choices[0]?.message.content };
  } finally {
    await client.close();
  }
}
