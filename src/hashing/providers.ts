/**
 * Which LLM API a request is for. Used by the recorder (to emit llm_request instead of http_request) and by replay
 * (to normalize an incoming request the same way before looking it up). Known hosts are recognised by themselves;
 * any other host is an LLM endpoint only when its base URL is configured (or set in OPENAI_BASE_URL /
 * ANTHROPIC_BASE_URL, which is how the official SDKs and most OpenAI-compatible servers are pointed elsewhere).
 */
export type ProviderKind = 'openai' | 'anthropic' | 'openai-compatible';

export interface ProviderBaseUrl {
  baseUrl: string;
  provider: ProviderKind;
}

export interface LlmEndpoint {
  provider: ProviderKind;
  /** 'chat.completions' | 'responses' | 'embeddings' | 'completions' | 'messages' */
  operation: string;
}

const OPENAI_OPERATIONS: ReadonlyArray<[suffix: string, operation: string]> = [
  ['/chat/completions', 'chat.completions'],
  ['/responses', 'responses'],
  ['/embeddings', 'embeddings'],
  ['/completions', 'completions'],
];

function openaiOperation(path: string): string | undefined {
  for (const [suffix, op] of OPENAI_OPERATIONS) if (path.endsWith(suffix)) return op;
  return undefined;
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/** Base URLs from the environment, the way the official SDKs read them. */
export function providerBaseUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderBaseUrl[] {
  const out: ProviderBaseUrl[] = [];
  if (env.OPENAI_BASE_URL) out.push({ baseUrl: env.OPENAI_BASE_URL, provider: 'openai-compatible' });
  if (env.ANTHROPIC_BASE_URL) out.push({ baseUrl: env.ANTHROPIC_BASE_URL, provider: 'anthropic' });
  return out;
}

export function detectLlmEndpoint(
  method: string,
  rawUrl: string,
  configured: readonly ProviderBaseUrl[] = [],
): LlmEndpoint | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  const path = trimSlash(url.pathname);
  if (url.hostname === 'api.openai.com') {
    const op = openaiOperation(path);
    return op ? { provider: 'openai', operation: op } : undefined;
  }
  if (url.hostname === 'api.anthropic.com') {
    return path.endsWith('/messages') ? { provider: 'anthropic', operation: 'messages' } : undefined;
  }
  for (const c of configured) {
    let base: URL;
    try {
      base = new URL(c.baseUrl);
    } catch {
      continue;
    }
    if (base.host !== url.host || !path.startsWith(trimSlash(base.pathname))) continue;
    if (c.provider === 'anthropic') {
      if (path.endsWith('/messages')) return { provider: 'anthropic', operation: 'messages' };
      continue;
    }
    const op = openaiOperation(path);
    if (op) return { provider: c.provider, operation: op };
  }
  return undefined;
}
