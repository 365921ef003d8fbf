import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { generateText, type LanguageModel, stepCountIs, streamText, tool } from 'ai';
import * as z from 'zod';
import { type AgentContext, toolWrapper } from '../../fixtures/agents/context.js';
import type { ProviderAgentOutput, UsageSeen } from '../../fixtures/agents/provider-agents.js';

/**
 * Agents written with the Vercel AI SDK the way its docs show, through its Google and Amazon Bedrock providers:
 * `generateText` with a zod tool and a step limit (a function call, the tool, then the answer), then `streamText`.
 * Credentials come from each provider's default variables (GOOGLE_GENERATIVE_AI_API_KEY; AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_REGION, signed with SigV4 by the provider); the SDK calls `fetch` itself. Each
 * returns the usage the SDK reported per call, so tests compare recorded counts to it.
 */

const QUESTION = 'What is the weather? call get_weather({"city":"Lima"})';

async function toolThenStream(model: LanguageModel, ctx: AgentContext | undefined): Promise<ProviderAgentOutput> {
  const getWeather = toolWrapper(ctx)('get_weather', async (args: { city: string }) => ({
    city: args.city,
    forecast: 'sunny',
    celsius: 21,
  }));
  const first = await generateText({
    model,
    prompt: QUESTION,
    tools: {
      get_weather: tool({
        description: 'Weather for a city',
        inputSchema: z.object({ city: z.string() }),
        execute: (args) => getWeather(args),
      }),
    },
    stopWhen: stepCountIs(3),
    maxRetries: 0,
  });
  const usage: UsageSeen[] = first.steps.map((s) => ({
    input: s.usage.inputTokens ?? -1,
    output: s.usage.outputTokens ?? -1,
  }));
  const streamed = streamText({ model, prompt: 'Stream a hello', maxRetries: 0 });
  let text = first.text;
  for await (const piece of streamed.textStream) text += piece;
  const u = await streamed.usage;
  usage.push({ input: u.inputTokens ?? -1, output: u.outputTokens ?? -1 });
  return { text, usage };
}

export interface VercelGoogleInput {
  /** the API root the provider appends /models/{model}:generateContent to (default …googleapis.com/v1beta) */
  baseURL: string;
  model?: string;
}

/** @ai-sdk/google: key from GOOGLE_GENERATIVE_AI_API_KEY (the provider's default), x-goog-api-key on the wire. */
export async function vercelGoogleAgent(input: VercelGoogleInput, ctx?: AgentContext): Promise<ProviderAgentOutput> {
  const google = createGoogleGenerativeAI({ baseURL: input.baseURL });
  return toolThenStream(google(input.model ?? 'gemini-2.5-flash'), ctx);
}

export interface VercelBedrockInput {
  /** an endpoint override (default bedrock-runtime.{region}.amazonaws.com); the provider appends /model/{id}/… */
  baseURL: string;
  model?: string;
}

/** @ai-sdk/amazon-bedrock: region and keys from the environment, Converse and ConverseStream over fetch. */
export async function vercelBedrockAgent(input: VercelBedrockInput, ctx?: AgentContext): Promise<ProviderAgentOutput> {
  const bedrock = createAmazonBedrock({ baseURL: input.baseURL });
  return toolThenStream(bedrock(input.model ?? 'anthropic.claude-3-5-haiku-20241022-v1:0'), ctx);
}
