/**
 * The OpenAI-compatible family: many servers speak OpenAI's chat completions. The provider recorded is named from the
 * host when it is a known one, so traces and pricing say "groq" rather than "openai-compatible".
 */
const BY_HOST: ReadonlyArray<[pattern: RegExp, provider: string]> = [
  [/^api\.openai\.com$/, 'openai'],
  [/(^|\.)openai\.azure\.com$|(^|\.)cognitiveservices\.azure\.com$|(^|\.)services\.ai\.azure\.com$/, 'azure-openai'],
  [/(^|\.)openrouter\.ai$/, 'openrouter'],
  [/(^|\.)groq\.com$/, 'groq'],
  [/(^|\.)together\.(xyz|ai)$/, 'together'],
  [/(^|\.)mistral\.ai$/, 'mistral'],
  [/(^|\.)deepseek\.com$/, 'deepseek'],
  [/(^|\.)fireworks\.ai$/, 'fireworks'],
  [/(^|\.)x\.ai$/, 'xai'],
  [/(^|\.)perplexity\.ai$/, 'perplexity'],
  [/(^|\.)cerebras\.ai$/, 'cerebras'],
  [/(^|\.)deepinfra\.com$/, 'deepinfra'],
  [/^generativelanguage\.googleapis\.com$/, 'gemini'],
  [/ollama/, 'ollama'],
  [/vllm/, 'vllm'],
  [/litellm/, 'litellm'],
];

/** Default ports of local servers that speak the OpenAI API. */
const BY_PORT: Readonly<Record<string, string>> = { '11434': 'ollama', '1234': 'lmstudio', '4000': 'litellm' };

export function compatibleProviderName(url: URL): string {
  const host = url.hostname.toLowerCase();
  for (const [pattern, provider] of BY_HOST) if (pattern.test(host)) return provider;
  return BY_PORT[url.port] ?? 'openai-compatible';
}
