/**
 * Which LLM API a request is for: the recognition itself lives with the providers (src/providers/); hashing re-exports
 * it because the request key depends on it.
 */
import {
  detectLlmEndpoint as detect,
  type EndpointConfig,
  type LlmEndpoint,
  type ProviderBaseUrl,
} from '../providers/index.js';

export type { LlmEndpoint, ProviderBaseUrl, EndpointConfig } from '../providers/index.js';
export { recordedEndpoint } from '../providers/index.js';

/** A provider name as recorded: 'openai', 'anthropic', 'openai-compatible', 'azure-openai', 'gemini', 'bedrock', … */
export type ProviderKind = string;

/** Base URLs from the environment, the way the official SDKs read them. */
export function providerBaseUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderBaseUrl[] {
  const out: ProviderBaseUrl[] = [];
  if (env.OPENAI_BASE_URL) out.push({ baseUrl: env.OPENAI_BASE_URL, provider: 'openai-compatible' });
  if (env.ANTHROPIC_BASE_URL) out.push({ baseUrl: env.ANTHROPIC_BASE_URL, provider: 'anthropic' });
  return out;
}

/**
 * `configured`: base URLs that are LLM endpoints whatever the body looks like; `exclude`: base URLs that never are.
 * `body`: the parsed request body, asked for only when the path could be an LLM call.
 */
export function detectLlmEndpoint(
  method: string,
  rawUrl: string,
  configured: readonly ProviderBaseUrl[] = [],
  more: { headers?: Readonly<Record<string, string>>; body?: () => unknown; exclude?: readonly string[] } = {},
): LlmEndpoint | undefined {
  const config: EndpointConfig = { include: configured, ...(more.exclude ? { exclude: more.exclude } : {}) };
  return detect(
    {
      method,
      url: rawUrl,
      ...(more.headers ? { headers: more.headers } : {}),
      ...(more.body ? { body: more.body } : {}),
    },
    config,
  );
}
